//! Requests for the operations the main benchmark's cases do not cover yet: the email domains
//! (with the loopback DNS answering verification), joining through a verified domain and the
//! join requests, and the two event-driven functions, `create-first-org` (Cognito's Post
//! Confirmation) and `record-delivery` (SES's events).

use anyhow::{Context, anyhow, bail};
use orgs_functions::jobs::delivery::record_delivery;
use orgs_functions::jobs::first_org::create_first_org;
use orgs_local::dns::LoopbackDns;
use orgs_local::token;
use orgs_shared::domain::Timestamp;
use serde_json::{Value, json};

use crate::counting::Call;
use crate::fixture::{Person, Req};
use crate::{Bench, Sample};

/// The operations this module measures.
pub const OPERATIONS: &[&str] = &[
    "add-domain",
    "get-domain",
    "update-domain",
    "remove-domain",
    "verify-domain",
    "join-org",
    "withdraw-join-request",
    "get-join-request",
    "approve-join-request",
    "deny-join-request",
    "create-first-org",
    "record-delivery",
];

/// What the extra cases need beside the fixture: the DNS that verification asks.
pub struct Extra {
    dns: LoopbackDns,
    seq: u64,
}

impl Extra {
    /// Starts the loopback DNS and points the fixture's verification at it; lifts the limits
    /// that repetitions would meet.
    pub async fn start(bench: &mut Bench) -> Self {
        let dns = LoopbackDns::start().await;
        let config = &mut bench.fx.app.config;
        config.dns.resolver = dns.addr();
        config.limits.domains_per_org = 1_000_000;
        Self { dns, seq: 0 }
    }

    fn domain(&mut self) -> String {
        self.seq += 1;
        format!("d{}-{}.example", uuid::Uuid::new_v4().simple(), self.seq)
    }

    /// `count` samples of `function`.
    pub async fn measure(
        &mut self,
        bench: &mut Bench,
        function: &str,
        count: usize,
    ) -> anyhow::Result<Vec<Sample>> {
        let mut samples = Vec::new();
        for _ in 0..count {
            samples.push(self.one(bench, function).await?);
        }
        Ok(samples)
    }

    async fn one(&mut self, bench: &mut Bench, function: &str) -> anyhow::Result<Sample> {
        let org = bench.fx.orgs[1].clone();
        let o = org.id.clone();
        let alice = bench.fx.alice.clone();
        let domain = self.domain();
        let one = format!("/orgs/{o}/domains/{domain}");
        let add = Req::new(
            "POST",
            format!("/orgs/{o}/domains"),
            Some(json!({ "domain": domain })),
        );
        if function == "add-domain" {
            return bench.request(Some(&alice), &add, 201).await;
        }
        let added = bench.fx.expect(Some(&alice), &add, 201).await?;
        let (alice, fx) = (Some(&alice), &bench.fx);
        let req = match function {
            "get-domain" => (Req::new("GET", &one, None), 200),
            "update-domain" => (
                Req::new("PATCH", &one, Some(json!({ "enrollment": "suggest" }))),
                200,
            ),
            "remove-domain" => (Req::new("DELETE", &one, None), 204),
            "verify-domain" => {
                self.publish(&domain, &added)?;
                (
                    Req::new("POST", format!("{one}/verify"), Some(json!({}))),
                    200,
                )
            }
            "join-org"
            | "withdraw-join-request"
            | "get-join-request"
            | "approve-join-request"
            | "deny-join-request" => {
                self.publish(&domain, &added)?;
                fx.expect(
                    alice,
                    &Req::new("POST", format!("{one}/verify"), Some(json!({}))),
                    200,
                )
                .await?;
                let enrollment = if function == "join-org" {
                    json!({ "enrollment": "auto_join" })
                } else {
                    json!({ "enrollment": "suggest" })
                };
                fx.expect(alice, &Req::new("PATCH", &one, Some(enrollment)), 200)
                    .await?;
                let person = Person {
                    sub: format!("bench-{}", uuid::Uuid::new_v4().simple()),
                    email: format!("joiner@{domain}"),
                };
                fx.expect(Some(&person), &Req::new("GET", "/me", None), 200)
                    .await?;
                let join = Req::new("POST", format!("/orgs/{o}/join"), Some(json!({})));
                if function == "join-org" {
                    return bench.request_success(Some(&person), &join).await;
                }
                fx.expect(Some(&person), &join, 202).await?;
                let decide = |verb: &str| {
                    Req::new(
                        "POST",
                        format!("/orgs/{o}/join-requests/{}/{verb}", person.sub),
                        Some(json!({})),
                    )
                };
                return match function {
                    "withdraw-join-request" => {
                        let withdraw = Req::new("DELETE", format!("/orgs/{o}/join"), None);
                        bench.request_success(Some(&person), &withdraw).await
                    }
                    "get-join-request" => {
                        let one = format!("/orgs/{o}/join-requests/{}", person.sub);
                        bench.request(alice, &Req::new("GET", one, None), 200).await
                    }
                    "approve-join-request" => {
                        bench.request_success(alice, &decide("approve")).await
                    }
                    "deny-join-request" => bench.request_success(alice, &decide("deny")).await,
                    other => bail!("no extra case for {other}"),
                };
            }
            "create-first-org" => return self.first_org(bench).await,
            "record-delivery" => return self.delivery(bench).await,
            other => bail!("no extra case for {other}"),
        };
        bench.request(alice, &req.0, req.1).await
    }

    /// Publishes the verification record `added` (an add-domain answer) asks for.
    fn publish(&self, domain: &str, added: &Value) -> anyhow::Result<()> {
        let value = added["record"]["value"]
            .as_str()
            .ok_or_else(|| anyhow!("add-domain answered without a record: {added}"))?;
        self.dns
            .publish(&format!("_orgs-verification.{domain}"), &[value]);
        Ok(())
    }

    /// Cognito's Post Confirmation for a new person: their first organization, with
    /// `CreateOrgOnSignUp` on for this request only (with it on, a first `GET /me` makes one too).
    async fn first_org(&mut self, bench: &mut Bench) -> anyhow::Result<Sample> {
        bench.fx.app.config.sign_up.create_first_org = true;
        let sample = self.first_org_on(bench).await;
        bench.fx.app.config.sign_up.create_first_org = false;
        sample
    }

    async fn first_org_on(&mut self, bench: &mut Bench) -> anyhow::Result<Sample> {
        let person = bench.fx.newcomer();
        let event = token::post_confirmation_event(
            "PostConfirmation_ConfirmSignUp",
            json!({
                "sub": person.sub,
                "email": person.email,
                "email_verified": "true",
                "cognito:user_status": "CONFIRMED",
            }),
        );
        let fx = &bench.fx;
        bench
            .measure(|| async {
                create_first_org(&fx.app.store, &fx.app.config, event)
                    .await
                    .context("create-first-org")?;
                Ok::<Vec<Call>, anyhow::Error>(fx.recorder.take())
            })
            .await
    }

    /// SES's Delivery event about a new invitation's email.
    async fn delivery(&mut self, bench: &mut Bench) -> anyhow::Result<Sample> {
        let org = bench.fx.orgs[1].clone();
        let email = bench.fx.newcomer().email;
        let (id, _) = bench.fx.invite(&org, &email).await?;
        let alice = bench.fx.alice.clone();
        let invitation = bench
            .fx
            .expect(
                Some(&alice),
                &Req::new("GET", format!("/orgs/{}/invitations/{id}", org.id), None),
                200,
            )
            .await?;
        let sent_at = invitation["sent_at"]
            .as_str()
            .and_then(Timestamp::parse)
            .ok_or_else(|| anyhow!("the invitation has no sent_at: {invitation}"))?;
        let event = json!({
            "version": "0",
            "id": uuid::Uuid::new_v4().to_string(),
            "detail-type": "Email Delivered",
            "source": "aws.ses",
            "detail": {
                "eventType": "Delivery",
                "mail": {
                    "timestamp": sent_at.to_string(),
                    "messageId": format!("msg-{id}"),
                    "destination": [email],
                    "tags": {
                        "ses:configuration-set": ["orgs"],
                        "org_id": [org.id],
                        "invitation_id": [id],
                        "sent_at": [sent_at.unix_millis().to_string()],
                    },
                },
                "delivery": { "timestamp": Timestamp::now().to_string() },
            },
        });
        let fx = &bench.fx;
        bench
            .measure(|| async {
                record_delivery(&fx.app.store, &event)
                    .await
                    .context("record-delivery")?;
                Ok::<Vec<Call>, anyhow::Error>(fx.recorder.take())
            })
            .await
    }
}
