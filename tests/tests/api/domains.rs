//! Email domains: owners add and remove them, admins read them; public providers and the
//! service's own domains are refused; the domain limit holds.

use orgs_local::dns::Answer;
use orgs_shared::domain::{EmailDomain, Limits};
use orgs_shared::store::{Of, Stored};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::{Options, Person, Stack, assert_problem};

#[tokio::test]
async fn owners_add_read_and_remove_domains_with_their_record() {
    let stack = Stack::start().await;
    let (olivia, ada, bo) = (
        stack.person("olivia"),
        stack.person("ada"),
        stack.person("bo"),
    );
    let org = stack.create_org(&olivia, "acme").await;
    stack.join(&org, &olivia, &ada, "admin").await;
    stack.join(&org, &olivia, &bo, "member").await;
    let domains = format!("/orgs/{org}/domains");

    let (status, added) = stack
        .post(&olivia, &domains, json!({ "domain": "Acme.Example" }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    assert_eq!(added["domain"], "acme.example");
    assert_eq!(added["status"], "pending");
    assert_eq!(added["verified_at"], json!(null));
    assert_eq!(added["record"]["type"], "TXT");
    assert_eq!(added["record"]["name"], "_orgs-verification.acme.example");
    let value = added["record"]["value"].as_str().unwrap();
    assert!(
        value.starts_with("orgs-verification=") && value.len() >= 18 + 43,
        "{value}"
    );

    let one = format!("{domains}/acme.example");
    let (status, read) = stack.get(&ada, &one).await;
    assert_eq!((status, &read), (StatusCode::OK, &added));
    let (status, page) = stack.get(&ada, &domains).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["items"], json!([added]));
    let (status, body) = stack.get(&bo, &one).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // Only owners add and remove; refusals change nothing.
    let before = stack.snapshot().await;
    let (status, body) = stack
        .post(&ada, &domains, json!({ "domain": "other.example" }))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack.delete(&ada, &one).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = stack
        .post(&olivia, &domains, json!({ "domain": "ACME.example" }))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "domain-exists");
    assert_eq!(stack.snapshot().await, before);

    let (status, _) = stack.delete(&olivia, &one).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = stack.get(&olivia, &one).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    let (status, body) = stack.delete(&olivia, &one).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not-found");
    assert!(
        !stack
            .kinds()
            .await
            .iter()
            .any(|k| matches!(k, Stored::Domain { .. }))
    );

    let actions: Vec<String> = stack
        .audit_entries(&Of::Org(org.clone()))
        .await
        .iter()
        .map(|e| e["action"].as_s().unwrap().clone())
        .collect();
    assert!(
        actions.ends_with(&["domain.added".into(), "domain.removed".into()]),
        "{actions:?}"
    );
    let types: Vec<String> = stack
        .event_records(&Of::Org(org))
        .await
        .iter()
        .map(|e| e["detail_type"].as_s().unwrap().clone())
        .collect();
    assert!(
        types.ends_with(&["DomainAdded".into(), "DomainRemoved".into()]),
        "{types:?}"
    );
}

#[tokio::test]
async fn public_providers_the_services_own_and_malformed_names_are_refused() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let domains = format!("/orgs/{org}/domains");
    let before = stack.snapshot().await;
    for (domain, code) in [
        ("gmail.com", "public_email_provider"),
        ("Outlook.com", "public_email_provider"),
        ("eu.yahoo.com", "public_email_provider"),
        // The domain of the sender address (no-reply@orgs.local) is the service's own.
        ("orgs.local", "service_domain"),
        ("acme", "invalid_domain"),
        ("acme..example", "invalid_domain"),
        ("10.0.0.1", "invalid_domain"),
    ] {
        let (status, body) = stack
            .post(&olivia, &domains, json!({ "domain": domain }))
            .await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(body["errors"][0]["field"], "domain", "{domain}: {body}");
        assert_eq!(body["errors"][0]["code"], code, "{domain}: {body}");
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn an_organization_adds_at_most_its_limit_of_domains_even_at_once() {
    let limits = Limits {
        domains_per_org: 3,
        ..Limits::default()
    };
    let stack = Stack::start_with(Options {
        limits: Some(limits),
        ..Options::default()
    })
    .await;
    let olivia = stack.person("olivia");
    let org = stack.create_org(&olivia, "acme").await;
    let domains = format!("/orgs/{org}/domains");
    let answers = futures::future::join_all((0..6).map(|i| {
        let (stack, olivia, domains) = (&stack, &olivia, &domains);
        async move {
            let body = json!({ "domain": format!("d{i}.example") });
            stack.post(olivia, domains, body).await
        }
    }))
    .await;
    let added = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    for (status, body) in &answers {
        if *status != StatusCode::CREATED {
            assert_problem(
                *status,
                body,
                StatusCode::TOO_MANY_REQUESTS,
                "limit-reached",
            );
        }
    }
    assert_eq!(added, 3);
    let (_, page) = stack.get(&olivia, &domains).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    // Removing one makes room for another.
    stack
        .delete(
            &olivia,
            format!("{domains}/{}", page["items"][0]["domain"].as_str().unwrap()),
        )
        .await;
    let (status, _) = stack
        .post(&olivia, &domains, json!({ "domain": "late.example" }))
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// The organization `olivia` owns, with `domain` added: its record's name and value.
async fn added(stack: &Stack, olivia: &Person, handle: &str, domain: &str) -> (String, String) {
    let org = stack.create_org(olivia, handle).await;
    let (status, added) = stack
        .post(
            olivia,
            format!("/orgs/{org}/domains"),
            json!({ "domain": domain }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let value = added["record"]["value"].as_str().unwrap().to_owned();
    (org, value)
}

#[tokio::test]
async fn verification_finds_the_record_or_says_what_it_found_instead() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let (org, value) = added(&stack, &olivia, "acme", "acme.example").await;
    let verify = format!("/orgs/{org}/domains/acme.example/verify");
    let record = "_orgs-verification.acme.example";

    let before = stack.snapshot().await;
    let (status, body) = stack.post(&olivia, &verify, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "domain-not-verified");
    assert_eq!(body["reason"], "nxdomain", "{body}");
    assert!(body["detail"].as_str().unwrap().contains("NXDOMAIN"));

    stack.dns.set(record, Answer::NoRecords);
    let (status, body) = stack.post(&olivia, &verify, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "domain-not-verified");
    assert_eq!(body["reason"], "no_txt_record", "{body}");

    stack
        .dns
        .publish(record, &["v=spf1 -all", "orgs-verification=someone-else"]);
    let (status, body) = stack.post(&olivia, &verify, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "domain-not-verified");
    assert_eq!(body["reason"], "wrong_value");
    assert_eq!(
        body["found"],
        json!(["v=spf1 -all", "orgs-verification=someone-else"])
    );

    // A resolver that never answers: the lookup times out, and the caller may try again.
    stack.dns.set(record, Answer::Silence);
    let (status, headers, body) = stack
        .call_with_headers(&olivia, Method::POST, &verify, Some(json!({})))
        .await;
    assert_eq!(
        headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("10"),
        "{headers:?}"
    );
    assert_problem(
        status,
        &body,
        StatusCode::SERVICE_UNAVAILABLE,
        "dns-unavailable",
    );
    assert!(
        body["detail"].as_str().unwrap().contains("timed out"),
        "{body}"
    );
    assert_eq!(
        stack.snapshot().await,
        before,
        "no lookup that failed changed anything"
    );

    stack.dns.publish(record, &["v=spf1 -all", &value]);
    let (status, verified) = stack.post(&olivia, &verify, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{verified}");
    assert_eq!(verified["status"], "verified");
    assert!(verified["verified_at"].is_string());
    let claims: Vec<Stored> = stack
        .kinds()
        .await
        .into_iter()
        .filter(|k| matches!(k, Stored::DomainClaim { .. }))
        .collect();
    assert_eq!(
        claims,
        [Stored::DomainClaim {
            domain: "acme.example".into()
        }]
    );
    let types: Vec<String> = stack
        .event_records(&Of::Org(org.clone()))
        .await
        .iter()
        .map(|e| e["detail_type"].as_s().unwrap().clone())
        .collect();
    assert_eq!(types.last().map(String::as_str), Some("DomainVerified"));

    // Removing a verified domain frees it.
    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}/domains/acme.example"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !stack
            .kinds()
            .await
            .iter()
            .any(|k| matches!(k, Stored::DomainClaim { .. } | Stored::Domain { .. }))
    );
}

/// Both organizations publish their value (a domain may carry several TXT records), and both
/// verify at once, again and again: each time exactly one holds the domain.
async fn race_to_verify(stack: &Stack) {
    for round in 0..3 {
        let domain = format!("race{round}.example");
        let (olivia, ursula) = (stack.unique_person("olivia"), stack.unique_person("ursula"));
        let (a, a_value) = added(
            stack,
            &olivia,
            &format!("a-{round}-{}", &olivia.sub[..6]),
            &domain,
        )
        .await;
        let (b, b_value) = added(
            stack,
            &ursula,
            &format!("b-{round}-{}", &ursula.sub[..6]),
            &domain,
        )
        .await;
        stack.dns.publish(
            &format!("_orgs-verification.{domain}"),
            &[&a_value, &b_value],
        );
        let (first, second) = tokio::join!(
            stack.post(
                &olivia,
                format!("/orgs/{a}/domains/{domain}/verify"),
                json!({})
            ),
            stack.post(
                &ursula,
                format!("/orgs/{b}/domains/{domain}/verify"),
                json!({})
            ),
        );
        let mut statuses = [first.0.as_u16(), second.0.as_u16()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "{first:?} {second:?}");
        let loser = if first.0 == StatusCode::OK {
            &second
        } else {
            &first
        };
        assert_problem(loser.0, &loser.1, StatusCode::CONFLICT, "domain-claimed");
        let winner = if first.0 == StatusCode::OK { &a } else { &b };
        assert_eq!(
            stack
                .app
                .store
                .domain_owner(&EmailDomain::parse("d", &domain).unwrap())
                .await
                .unwrap()
                .map(|o| o.to_string()),
            Some(winner.clone())
        );
        let verified = [(&olivia, &a), (&ursula, &b)];
        let mut count = 0;
        for (who, org) in verified {
            let (_, d) = stack
                .get(who, format!("/orgs/{org}/domains/{domain}"))
                .await;
            count += usize::from(d["status"] == "verified");
        }
        assert_eq!(count, 1, "exactly one organization has it verified");
        let claims = stack
            .kinds()
            .await
            .into_iter()
            .filter(|k| matches!(k, Stored::DomainClaim { domain: d } if *d == domain))
            .count();
        assert_eq!(claims, 1, "one claim marker");
    }
}

#[tokio::test]
async fn two_organizations_racing_to_verify_one_domain_end_with_one_owner() {
    race_to_verify(&Stack::start().await).await;
}

#[tokio::test]
async fn the_race_ends_with_one_owner_under_dynamodbs_conflicts_too() {
    let stack = Stack::start_with(Options {
        conflict_window: Some(std::time::Duration::from_millis(20)),
        ..Options::default()
    })
    .await;
    race_to_verify(&stack).await;
}

#[tokio::test]
async fn deleting_an_organization_frees_its_verified_domains() {
    let stack = Stack::start().await;
    let olivia = stack.person("olivia");
    let (org, value) = added(&stack, &olivia, "acme", "acme.example").await;
    stack
        .dns
        .publish("_orgs-verification.acme.example", &[&value]);
    let verify = format!("/orgs/{org}/domains/acme.example/verify");
    assert_eq!(
        stack.post(&olivia, &verify, json!({})).await.0,
        StatusCode::OK
    );
    let (status, _) = stack
        .delete(&olivia, format!("/orgs/{org}?confirm=acme"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(
        !stack
            .kinds()
            .await
            .iter()
            .any(|k| matches!(k, Stored::DomainClaim { .. }))
    );
    // Another organization may now verify it.
    let ursula = stack.person("ursula");
    let (other, value) = added(&stack, &ursula, "other", "acme.example").await;
    stack
        .dns
        .publish("_orgs-verification.acme.example", &[&value]);
    let verify = format!("/orgs/{other}/domains/acme.example/verify");
    assert_eq!(
        stack.post(&ursula, &verify, json!({})).await.0,
        StatusCode::OK
    );
}
