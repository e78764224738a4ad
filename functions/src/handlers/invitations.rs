//! An organization's invitations, for its owners and admins: invite (up to ten at once), list,
//! read, resend and revoke.

use http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use orgs_shared::app::App;
use orgs_shared::budget::{self, Budget};
use orgs_shared::domain::delivery::message_tags;
use orgs_shared::domain::idempotency::{WITHHELD_FIELD, WITHHELD_NOTE};
use orgs_shared::domain::invitation::{check_batch_size, named_teams, parse_batch};
use orgs_shared::domain::invitation_link::sign_up_link;
use orgs_shared::domain::invitation_link::{LinkChoice, RedirectOrigins, lifetime_seconds};
use orgs_shared::domain::{
    Email, FieldErrors, FreshToken, InvitationId, InvitationSpec, InvitationStatus,
    InvitationToken, Invitee, NoAddress, OrgSso, RawInvitee, RawTeam, RoleKey, RoleName, TeamId,
    TeamRole, Timestamp, UserId, ValidationError, inviter_name, may_assign, may_give_team_role,
    may_grant, may_manage_invitation, may_resend,
};
use orgs_shared::http::{
    ApiError, Caller, PageRequest, answer_at_commit, caller, embedded_problem, encode_cursor, json,
    json_body, no_content, present, present_integer,
};
use orgs_shared::mail::{InvitationEmail, Welcome};
use orgs_shared::store::{
    Invitation, ItemKey, Membership, NewInvitation, Op, Organization, Refusal, StoreError, User,
};

use super::in_time;
use super::teams::TeamWithRole;
use crate::access::{Authorized, Gate, op, path_param};
use crate::views::{InvitationView, PageView};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateInvitations {
    invitations: Vec<InviteeBody>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InviteeBody {
    #[serde(default, deserialize_with = "present")]
    email: Option<String>,
    #[serde(default, deserialize_with = "present")]
    handle: Option<String>,
    #[serde(default, deserialize_with = "present")]
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    name: Option<String>,
    #[serde(default, deserialize_with = "present")]
    note: Option<String>,
    /// Each a team id (joined as a `member`) or `{"team_id", "role"}`.
    #[serde(default)]
    teams: Vec<InvitedTeam>,
    #[serde(default, deserialize_with = "present_integer")]
    expires_in_days: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    redirect_url: Option<String>,
}

/// A team an invitation names: its id, or its id with the team role to hold there.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum InvitedTeam {
    Id(String),
    WithRole(TeamWithRole),
}

impl InvitedTeam {
    fn raw(&self) -> RawTeam<'_> {
        match self {
            InvitedTeam::Id(team_id) => RawTeam {
                team_id,
                role: None,
            },
            InvitedTeam::WithRole(team) => team.raw(),
        }
    }
}

impl InviteeBody {
    fn raw_teams(&self) -> Vec<RawTeam<'_>> {
        self.teams.iter().map(InvitedTeam::raw).collect()
    }

    fn raw<'a>(&'a self, teams: &'a [RawTeam<'a>]) -> RawInvitee<'a> {
        RawInvitee {
            email: self.email.as_deref(),
            handle: self.handle.as_deref(),
            role: self.role.as_deref(),
            name: self.name.as_deref(),
            note: self.note.as_deref(),
            teams,
        }
    }
}

/// Every invitee's lifetime and page, with the errors of all of them added to `errors`.
fn link_choices(
    invitees: &[InviteeBody],
    allowed: &RedirectOrigins,
    errors: &mut FieldErrors,
) -> Vec<LinkChoice> {
    invitees
        .iter()
        .enumerate()
        .filter_map(|(i, invitee)| {
            LinkChoice::parse(
                &format!("invitations[{i}]"),
                invitee.expires_in_days,
                invitee.redirect_url.as_deref(),
                allowed,
            )
            .map_err(|e| e.into_vec().into_iter().for_each(|e| errors.push(e)))
            .ok()
        })
        .collect()
}

/// How the email names the inviter, from their profile and their claims.
fn inviter(caller: &Caller, profile: Option<&User>) -> String {
    inviter_name(
        profile.and_then(|p| p.display_name.as_deref()),
        profile.and_then(|p| p.handle.as_deref()),
        caller.email(),
        &caller.user_id,
    )
}

/// Where replies to the email go: the inviter's address as a sign-in provider verified it (the
/// token's, or for a token without email claims the profile's), unless configured off.
fn reply_to(app: &App, caller: &Caller, profile: Option<&User>) -> Option<String> {
    if !app.config.invitations.reply_to_inviter {
        return None;
    }
    let caller = caller.clone().with_stored_email(profile);
    caller.verified_email().map(str::to_owned)
}

/// Sends the email within `budget` (`in_time`); a failure is reported to the inviter, never
/// lost: the invitation stays pending and a resend works once SES is back.
async fn send(app: &App, email: InvitationEmail<'_>, budget: Budget) -> Value {
    if !in_time::may_send(&budget) {
        return in_time::email_out_of_time();
    }
    let sent = tokio::time::timeout_at(
        budget.answer_by().into(),
        app.mailer.send_invitation(&email),
    );
    match sent.await {
        Ok(Ok(())) => json!({ "email_sent": true }),
        Err(_) => {
            tracing::warn!("invitation email not sent in the time left");
            in_time::email_out_of_time()
        }
        Ok(Err(err)) => {
            tracing::warn!(error = %err, "invitation email not sent");
            json!({
                "email_sent": false,
                "email_error": "The email service did not accept the message; the invitation is \
                                saved. Copy the link, or resend the invitation later.",
            })
        }
    }
}

/// The SES tags of the email of this sending of `invitation`.
fn invitation_tags(invitation: &Invitation) -> [(&'static str, String); 3] {
    message_tags(
        &invitation.org_id,
        &invitation.invitation_id,
        invitation.sent_at,
    )
}

/// Refuses an address on the SES account's suppression list: SES would drop the email. When
/// SES cannot say, the invitation goes ahead: its email then fails or is reported as bounced,
/// and the invitation stays usable through its link either way.
async fn refuse_suppressed(app: &App, address: &str) -> Result<(), ApiError> {
    match app.mailer.check_suppressed(address).await {
        Ok(None) => Ok(()),
        Ok(Some(suppressed)) => Err(suppressed.into()),
        Err(err) => {
            tracing::warn!(error = %err, "the suppression list could not be read; sending anyway");
            Ok(())
        }
    }
}

/// The answer for one created or resent invitation: the link, shown this once, and whether
/// the email went out.
fn with_link(mut delivery: Value, invitation: &Invitation, link: &str, now: Timestamp) -> Value {
    delivery["invitation"] = json!(InvitationView::new(invitation, now));
    delivery["invite_url"] = json!(link);
    delivery
}

struct Inviting<'a> {
    app: &'a App,
    org: &'a Organization,
    inviter: String,
    /// The inviter's verified address, for `Reply-To` (`None`: configured off, or none known).
    reply_to: Option<String>,
    /// The invitees' addresses that someone holds (read with the authorization): they get the
    /// notification, anyone else the welcome.
    known: Vec<String>,
    op: Op,
}

/// An invitee ready to be written: the address resolved, the token drawn.
struct Prepared {
    email: String,
    user: Option<UserId>,
    /// Whether the service knows the invitee: a user named by handle, or an address someone
    /// holds. Decides between the notification and the welcome.
    known: bool,
    token: InvitationToken,
    expires_at: Timestamp,
}

/// The welcome's link to create an account: the configured sign-up page carrying the accept
/// link, or without one the accept link itself (its page then offers to sign up).
fn sign_up_link_for(app: &App, link: &str) -> String {
    match &app.config.invitations.sign_up_url {
        Some(page) => sign_up_link(page, link),
        None => link.to_owned(),
    }
}

impl Inviting<'_> {
    /// Resolves a handle invitee to their address, and draws the token for the lifetime asked.
    async fn prepare(
        &self,
        spec: &InvitationSpec,
        choice: &LinkChoice,
    ) -> Result<Prepared, ApiError> {
        let (email, user) = match &spec.invitee {
            Invitee::Email(email) => (email.as_str().to_owned(), None),
            Invitee::Handle(handle) => {
                let user = self
                    .app
                    .store
                    .user_by_handle(handle)
                    .await?
                    .ok_or(ApiError::NotFound("user"))?;
                let email = user.email.clone().ok_or(NoAddress)?;
                (email, Some(user.user_id))
            }
        };
        refuse_suppressed(self.app, &email).await?;
        // A failure here is one result of the batch, which `respond` never sees: log it.
        let lifetime = lifetime_seconds(
            choice.expires_in_days,
            self.app.config.invitations.ttl_seconds,
        );
        let FreshToken { token, expires_at } = FreshToken::issue(self.op.at, lifetime)
            .inspect_err(|e| tracing::error!(error = %e, "no randomness for a token"))?;
        let known = user.is_some() || self.known.contains(&email);
        Ok(Prepared {
            email,
            user,
            known,
            token,
            expires_at,
        })
    }

    /// Invites everyone in `specs`: their addresses resolved side by side, then all written in
    /// one transaction, then the emails sent side by side. One result per invitee, in order;
    /// an error of the transaction itself (nothing was written) is the whole request's.
    async fn invite_all(
        &self,
        specs: &[InvitationSpec],
        choices: &[LinkChoice],
    ) -> Result<Vec<Result<Value, ApiError>>, ApiError> {
        let budget = in_time::request_budget();
        // Looking invitees up may not eat into the time the transaction needs.
        let lookups = in_time::lookup_budget(&budget);
        let mut results: Vec<Option<Result<Value, ApiError>>> = Vec::new();
        let mut ready = Vec::new();
        // Every invitee's address is resolved (a handle's user read, the suppression list
        // asked) side by side: one after another, ten invitees would wait ten times as long. A
        // lookup still running when the lookup budget ends is cut, and reported.
        let prepared = match in_time::may_start_invitee(&lookups) {
            true => {
                let lookups = specs
                    .iter()
                    .zip(choices)
                    .map(|(spec, choice)| budget::within(lookups, self.prepare(spec, choice)));
                futures::future::join_all(lookups).await
            }
            false => specs
                .iter()
                .map(|_| Err(in_time::not_attempted()))
                .collect(),
        };
        for (i, prepared) in prepared.into_iter().enumerate() {
            match prepared {
                // An address twice in one batch: the second is already pending, as it would be
                // in a later request (and one transaction may not write one item twice).
                Ok(prepared)
                    if ready
                        .iter()
                        .any(|(_, p): &(usize, Prepared)| p.email == prepared.email) =>
                {
                    results.push(Some(Err(
                        StoreError::Refused(Refusal::AlreadyPending).into()
                    )));
                }
                Ok(prepared) => {
                    results.push(None);
                    ready.push((i, prepared));
                }
                Err(err) => results.push(Some(Err(err))),
            }
        }
        let hashes: Vec<_> = ready.iter().map(|(_, p)| p.token.hash()).collect();
        let news: Vec<NewInvitation> = ready
            .iter()
            .zip(&hashes)
            .map(|((i, p), hash)| NewInvitation {
                email: &p.email,
                invitee_user_id: p.user.as_ref(),
                role: &specs[*i].role,
                name: specs[*i].name.as_ref().map(|n| n.as_str()),
                note: specs[*i].note.as_ref().map(|n| n.as_str()),
                team_ids: &specs[*i].teams,
                team_roles: &specs[*i].team_roles,
                token_hash: hash,
                expires_at: p.expires_at,
                expires_in_days: choices[*i].expires_in_days,
                redirect_url: choices[*i].redirect_url.as_deref(),
            })
            .collect();
        self.answer_at_commit(&results, &ready);
        // No time left for the transaction: none of them was attempted.
        if !news.is_empty() && !in_time::may_start_invitee(&budget) {
            for (i, _) in &ready {
                results[*i] = Some(Err(in_time::not_attempted()));
            }
            return Ok(results.into_iter().flatten().collect());
        }
        let created = match news.is_empty() {
            true => Vec::new(),
            false => {
                self.app
                    .store
                    .create_invitations(self.org, &news, &self.app.config.limits, &self.op)
                    .await?
            }
        };
        let sent = created.iter().zip(&ready).map(|(made, (_, p))| async move {
            let invitation = made
                .as_ref()
                .map_err(|refusal| ApiError::from(StoreError::Refused(*refusal)))?;
            let link = self
                .app
                .invite_link(invitation.redirect_url.as_deref(), &p.token);
            // The emails go side by side: each may take what is left, less the answer's time.
            let email_budget = in_time::email_budget(&budget);
            let tags = invitation_tags(invitation);
            let sign_up = (!p.known).then(|| sign_up_link_for(self.app, &link));
            let email = self.email(invitation, &link, &tags, sign_up.as_deref());
            let delivery = send(self.app, email, email_budget).await;
            Ok(with_link(delivery, invitation, &link, self.op.at))
        });
        for ((i, _), result) in ready.iter().zip(futures::future::join_all(sent).await) {
            results[*i] = Some(result);
        }
        Ok(results.into_iter().flatten().collect())
    }

    /// The answer should the transaction commit, for a request with an `Idempotency-Key`: the
    /// results known before it (`prior`, `None` for an invitee in it), and each invitee of the
    /// transaction (at `slots`) as the store made it, without its email, which is not sent yet.
    fn answer_at_commit(
        &self,
        prior: &[Option<Result<Value, ApiError>>],
        ready: &[(usize, Prepared)],
    ) {
        let prior: Vec<Option<Value>> = prior
            .iter()
            .map(|r| {
                r.as_ref()
                    .map(|r| r.as_ref().map_or_else(problem_result, Clone::clone))
            })
            .collect();
        let slots: Vec<usize> = ready.iter().map(|(i, _)| *i).collect();
        let now = self.op.at;
        let sso = self.org.sso.clone();
        answer_at_commit(move |made: &Vec<Result<Invitation, Refusal>>| {
            let mut results = prior.clone();
            for (slot, outcome) in slots.iter().zip(made) {
                results[*slot] = Some(match outcome {
                    Ok(invitation) => created_result(
                        json!({
                            "invitation": InvitationView::new(invitation, now),
                            "email_sent": false,
                            "email_error": "Whether the email went out is not known: the first answer \
                                            to this request was lost. Resend the invitation for a new \
                                            link and email.",
                            WITHHELD_FIELD: WITHHELD_NOTE,
                        }),
                        &sso,
                    ),
                    Err(refusal) => problem_result(&StoreError::Refused(*refusal).into()),
                });
            }
            batch_answer(results.into_iter().flatten().collect())
        });
    }

    /// The email of `invitation`: the welcome when `sign_up` is given (an invitee the service
    /// does not know), else the notification.
    fn email<'a>(
        &'a self,
        invitation: &'a Invitation,
        link: &'a str,
        tags: &'a [(&'static str, String)],
        sign_up: Option<&'a str>,
    ) -> InvitationEmail<'a> {
        InvitationEmail {
            to: &invitation.email,
            invitee_name: invitation.name.as_deref(),
            inviter: &self.inviter,
            org_name: &self.org.display_name,
            org_handle: &self.org.handle,
            role: invitation.role.as_str(),
            note: invitation.note.as_deref(),
            link,
            expires_at: invitation.expires_at,
            welcome: sign_up.map(|sign_up_link| Welcome {
                product: &self.app.config.invitations.product_name,
                sign_up_link,
            }),
            tags,
            reply_to: self.reply_to.as_deref(),
        }
    }
}

/// `POST /orgs/{org_id}/invitations`: 201 when every invitee was invited, else 207 with a
/// result per invitee, or 503 when none was and DynamoDB was unavailable for one, or the
/// request's time ran out before it (`in_time`). Invalid input or a limit refuses the whole
/// request and sends nothing.
pub async fn create_invitations(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let body: CreateInvitations = json_body(&req, app.config.max_body_bytes)?;
    check_batch_size(body.invitations.len())?;
    let teams: Vec<Vec<RawTeam>> = body
        .invitations
        .iter()
        .map(InviteeBody::raw_teams)
        .collect();
    let batch: Vec<RawInvitee> = body
        .invitations
        .iter()
        .zip(&teams)
        .map(|(invitee, teams)| invitee.raw(teams))
        .collect();
    // Everything to read has a known key: the teams named, the inviter's profile (for the
    // email) and the email counters come with the authorization's read.
    let op = op(&caller, &req);
    let named_teams = named_teams(&batch);
    // Whether anyone holds each address invited decides which email it gets: read along.
    let addresses: Vec<String> = batch
        .iter()
        .filter_map(|raw| Email::parse("email", raw.email?).ok())
        .map(|email| email.as_str().to_owned())
        .collect();
    // The custom roles named are read along too, to check that the inviter may give them.
    let mut custom_roles: Vec<RoleKey> = Vec::new();
    for raw in &batch {
        if let Some(Ok(RoleName::Custom(key))) = raw.role.map(|r| RoleName::parse("role", r))
            && !custom_roles.contains(&key)
        {
            custom_roles.push(key);
        }
        // And the custom team roles the teams name.
        for team in raw.teams {
            let key = team.role.and_then(TeamRole::parse);
            if let Some(TeamRole::Custom(key)) = key
                && !custom_roles.contains(&key)
            {
                custom_roles.push(key);
            }
        }
    }
    let mut also = vec![ItemKey::Profile(&caller.user_id)];
    also.extend(custom_roles.iter().map(ItemKey::Role));
    also.extend(ItemKey::email_counters(&caller.user_id, op.at));
    also.extend(named_teams.iter().map(ItemKey::Team));
    also.extend(addresses.iter().map(|email| ItemKey::KnownAddress(email)));
    let Authorized { org, me, items } = gate.open_reading(app, &caller, &req, &also).await?;
    let op = op.acting_as(&me);
    let mut existing_teams: Vec<TeamId> = Vec::new();
    for team in named_teams {
        // A team being deleted can no longer be joined, so no invitation may name it.
        if items.team(&team)?.is_some_and(|team| team.active) {
            existing_teams.push(team);
        }
    }
    let mut errors = FieldErrors::default();
    let choices = link_choices(
        &body.invitations,
        &app.config.invitations.redirect_origins,
        &mut errors,
    );
    let specs = match parse_batch(&batch, me.role, &existing_teams) {
        Ok(specs) if errors.is_empty() => specs,
        Ok(_) => return Err(errors.into()),
        Err(refused) => {
            let mut all = FieldErrors::default();
            refused
                .into_vec()
                .into_iter()
                .chain(errors.into_vec())
                .for_each(|e| all.push(e));
            return Err(all.into());
        }
    };
    for (i, spec) in specs.iter().enumerate() {
        if let RoleName::Custom(key) = &spec.role {
            may_assign(&me.grants(), &spec.role, items.role(key)?.as_ref()).map_err(|refused| {
                ApiError::Role {
                    refused,
                    field: format!("invitations[{i}].role"),
                }
            })?;
        }
        // A custom team role: a team role of the organization, within the inviter's grants.
        for assignment in &spec.team_roles {
            let Some(key) = assignment.role.custom_key() else {
                continue;
            };
            let custom = items.role(key)?;
            may_give_team_role(&me.grants(), &assignment.role, custom.as_ref()).map_err(
                |refused| {
                    let j = teams[i]
                        .iter()
                        .position(|t| t.team_id == assignment.team_id.as_str())
                        .unwrap_or(0);
                    ApiError::Role {
                        refused,
                        field: format!("invitations[{i}].teams[{j}].role"),
                    }
                },
            )?;
        }
    }
    app.config.limits.admit_invitations(
        specs.len() as i64,
        org.member_count,
        org.pending_invitations,
        &items.emails_sent(org.created_at, &caller.user_id, op.at)?,
    )?;
    let profile = items.profile(&caller.user_id)?;
    let known = addresses
        .into_iter()
        .filter(|email| items.known_address(email))
        .collect();
    let inviting = Inviting {
        app,
        org: &org,
        inviter: inviter(&caller, profile.as_ref()),
        reply_to: reply_to(app, &caller, profile.as_ref()),
        known,
        op,
    };
    let mut results = Vec::new();
    let mut none_created = true;
    let mut unavailable = None;
    for outcome in inviting.invite_all(&specs, &choices).await? {
        results.push(match outcome {
            Ok(created) => {
                none_created = false;
                created_result(created, &org.sso)
            }
            Err(err) => {
                let result = problem_result(&err);
                if err.answer().status == StatusCode::SERVICE_UNAVAILABLE && unavailable.is_none() {
                    unavailable = Some(err);
                }
                result
            }
        });
    }
    // Nothing was invited, and trying again later may work: the whole request is a 503 with
    // `Retry-After`, as any request that met an unavailable DynamoDB.
    if let (true, Some(err)) = (none_created, unavailable) {
        return Err(err);
    }
    Ok(batch_answer(results))
}

/// One invitee's result: invited; `sso_required` when the organization requires them to sign
/// in through its identity provider.
fn created_result(mut created: Value, sso: &OrgSso) -> Value {
    created["status"] = json!(201);
    if sso.requires_of(created["invitation"]["email"].as_str()) {
        created["sso_required"] = json!(true);
    }
    created
}

/// One invitee's result: not invited, and why.
fn problem_result(err: &ApiError) -> Value {
    json!({ "status": err.answer().status.as_u16(), "problem": embedded_problem(err) })
}

/// A batch's answer: 201 when every invitee was invited, else 207 with a result per invitee.
fn batch_answer(results: Vec<Value>) -> Response<Body> {
    let status = match results.iter().all(|r| r["status"] == 201) {
        true => StatusCode::CREATED,
        false => StatusCode::MULTI_STATUS,
    };
    json(status, &json!({ "results": results }))
}

/// The invitation named in the path, in an organization where the caller manages invitations,
/// read together with the organization, the caller's membership and `also`.
async fn managed_invitation(
    gate: &Gate,
    app: &App,
    req: &Request,
    caller: &Caller,
    also: &[ItemKey<'_>],
) -> Result<(Authorized, Invitation), ApiError> {
    let id = InvitationId::parse(&path_param(req, "invitation_id"));
    let mut keys = also.to_vec();
    keys.extend(id.iter().map(ItemKey::Invitation));
    let authorized = gate.open_reading(app, caller, req, &keys).await?;
    let invitation = match &id {
        Some(id) => authorized.items.invitation(id)?,
        None => None,
    };
    Ok((
        authorized,
        invitation.ok_or(ApiError::NotFound("invitation"))?,
    ))
}

pub async fn list_invitations(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let page = PageRequest::from_request(&req)?;
    let status = match req.query_string_parameters().first("status") {
        None => None,
        Some(raw) => Some(InvitationStatus::parse(raw).ok_or_else(|| {
            ValidationError::new(
                "status",
                "invalid_query",
                "status is pending, accepted, declined, revoked or expired.",
            )
        })?),
    };
    let after = page.after_as(InvitationId::parse)?;
    let (org_id, _) = gate.open_uncounted(app, &caller, &req).await?;
    let now = Timestamp::now();
    let found = app
        .store
        .list_invitations(&org_id, status, now, page.limit, after.as_ref())
        .await?;
    let items = found
        .items
        .iter()
        .map(|i| InvitationView::new(i, now))
        .collect();
    let next_cursor = found.next.map(|id| encode_cursor(id.as_str()));
    Ok(json(StatusCode::OK, &PageView { items, next_cursor }))
}

pub async fn get_invitation(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (_, invitation) = managed_invitation(&gate, app, &req, &caller, &[]).await?;
    Ok(json(
        StatusCode::OK,
        &InvitationView::new(&invitation, Timestamp::now()),
    ))
}

/// A new token and a fresh lifetime; the old link stops working.
pub async fn resend_invitation(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let op = op(&caller, &req);
    let [org_day, first_day, person_day] = ItemKey::email_counters(&caller.user_id, op.at);
    let also = [
        ItemKey::Profile(&caller.user_id),
        org_day,
        first_day,
        person_day,
    ];
    let (Authorized { org, items, me }, invitation) =
        managed_invitation(&gate, app, &req, &caller, &also).await?;
    may_manage(app, &me, &invitation).await?;
    let limits = &app.config.limits;
    may_resend(
        invitation.status,
        invitation.resends_on(op.at),
        &items.emails_sent(org.created_at, &caller.user_id, op.at)?,
        limits,
    )?;
    // Which email goes out is decided again: the invitee may have signed up since. Asked side by
    // side with the suppression list, and only of an address: a handle names a user already.
    let known = async {
        match invitation.invitee_user_id {
            Some(_) => Ok(true),
            None => app.store.is_known_address(&invitation.email).await,
        }
    };
    let (suppressed, known) = futures::join!(refuse_suppressed(app, &invitation.email), known);
    suppressed?;
    let known = known?;
    // The same lifetime again, from now, and the same page.
    let lifetime = lifetime_seconds(
        invitation.expires_in_days,
        app.config.invitations.ttl_seconds,
    );
    let FreshToken { token, expires_at } = FreshToken::issue(op.at, lifetime)?;
    let profile = items.profile(&caller.user_id)?;
    let inviting = Inviting {
        app,
        org: &org,
        inviter: inviter(&caller, profile.as_ref()),
        reply_to: reply_to(app, &caller, profile.as_ref()),
        known: Vec::new(),
        op: op.acting_as(&me),
    };
    let resent = app
        .store
        .resend_invitation(
            &org,
            &invitation,
            &token.hash(),
            expires_at,
            limits,
            &inviting.op,
        )
        .await?;
    let link = app.invite_link(resent.redirect_url.as_deref(), &token);
    let budget = in_time::email_budget(&in_time::request_budget());
    let tags = invitation_tags(&resent);
    let sign_up = (!known).then(|| sign_up_link_for(app, &link));
    let email = inviting.email(&resent, &link, &tags, sign_up.as_deref());
    let delivery = send(app, email, budget).await;
    Ok(json(
        StatusCode::OK,
        &with_link(delivery, &resent, &link, inviting.op.at),
    ))
}

/// Whether `me` may resend or revoke `invitation`: a fresh link to its role, so not to a role
/// above theirs (only owners, for an owner's), nor to a custom role granting what they lack.
async fn may_manage(app: &App, me: &Membership, invitation: &Invitation) -> Result<(), ApiError> {
    may_manage_invitation(me.role, invitation.role)?;
    if let Some(key) = &invitation.custom_role
        && let Some(role) = app.store.get_role(&invitation.org_id, key).await?
    {
        may_grant(&me.grants(), &role.grants())?;
    }
    Ok(())
}

pub async fn revoke_invitation(
    app: &App,
    req: Request,
    gate: Gate,
) -> Result<Response<Body>, ApiError> {
    let caller = caller(&req)?;
    let (Authorized { me, .. }, invitation) =
        managed_invitation(&gate, app, &req, &caller, &[]).await?;
    may_manage(app, &me, &invitation).await?;
    invitation.status.require_pending()?;
    let op = op(&caller, &req).acting_as(&me);
    app.store
        .close_invitation(&invitation, InvitationStatus::Revoked, &op)
        .await?;
    Ok(no_content())
}
