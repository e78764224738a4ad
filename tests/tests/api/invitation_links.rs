//! What the front end chooses per invitation: its lifetime (`expires_in_days`), which the
//! deadline, the expiry and a resend follow, and its page (`redirect_url`, an allowlisted
//! origin only), which the link opens in the email and the answer, also after a resend.

use std::time::{Duration, Instant};

use orgs_functions::jobs::expiry::{ExpiryReport, expire_invitations};
use orgs_shared::domain::Timestamp;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::common::{Options, Stack, assert_problem, error_fields};
use crate::invitations::{answer, invite, token_of};

const DAY: i64 = 86_400;

/// One run of the scheduled expiry as if started at `now`.
async fn expiry_at(stack: &Stack, now: Timestamp) -> ExpiryReport {
    let stop_at = Instant::now() + Duration::from_secs(300);
    crate::expiry::as_job(expire_invitations(&stack.app.store, now, stop_at, "links")).await
}

fn seconds(rfc3339: &Value) -> i64 {
    Timestamp::parse(rfc3339.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .unix_seconds()
}

#[tokio::test]
async fn an_invitation_of_thirty_days_lapses_at_thirty_days_and_a_resend_gives_thirty_again() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let start = Timestamp::now();
    let invitees = json!([
        { "email": "month@example.com", "expires_in_days": 30 },
        { "email": "week@example.com" },
    ]);
    let (status, created) = invite(&stack, &alice, &org_id, invitees).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let month = &created["results"][0]["invitation"];
    let week = &created["results"][1]["invitation"];
    assert_eq!(month["expires_in_days"], 30);
    assert_eq!(week["expires_in_days"], Value::Null);
    let month_deadline = seconds(&month["expires_at"]);
    assert!((month_deadline - start.unix_seconds() - 30 * DAY).abs() < 60);
    assert!((seconds(&week["expires_at"]) - start.unix_seconds() - 7 * DAY).abs() < 60);

    // Eight and twenty-nine days on, only the seven-day invitation is due; at thirty, the other.
    let report = expiry_at(&stack, start.plus_seconds(8 * DAY)).await;
    assert_eq!((report.found, report.expired), (1, 1), "{report}");
    let report = expiry_at(&stack, start.plus_seconds(29 * DAY)).await;
    assert_eq!((report.found, report.expired), (0, 0), "{report}");
    let report = expiry_at(
        &stack,
        Timestamp::parse(month["expires_at"].as_str().unwrap())
            .unwrap()
            .plus_seconds(1),
    )
    .await;
    assert_eq!((report.found, report.expired), (1, 1), "{report}");
    let path = format!("/orgs/{org_id}/invitations");
    let (_, listed) = stack.get(&alice, format!("{path}?status=expired")).await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");

    // A resend restarts the invitation's own lifetime, not the configured one.
    let (_, created) = invite(
        &stack,
        &alice,
        &org_id,
        json!([{ "email": "again@example.com", "expires_in_days": 30 }]),
    )
    .await;
    let id = created["results"][0]["invitation"]["invitation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let resent_at = Timestamp::now();
    let (status, resent) = stack
        .post(&alice, format!("{path}/{id}/resend"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    assert_eq!(resent["invitation"]["expires_in_days"], 30);
    let deadline = seconds(&resent["invitation"]["expires_at"]);
    assert!((deadline - resent_at.unix_seconds() - 30 * DAY).abs() < 60);
}

#[tokio::test]
async fn a_lifetime_outside_one_to_thirty_days_is_refused_and_changes_nothing() {
    let stack = Stack::start().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    for days in [json!(0), json!(31), json!(-3), json!(1.5), json!("7")] {
        let invitees = json!([{ "email": "x@example.com", "expires_in_days": days }]);
        let (status, refused) = invite(&stack, &alice, &org_id, invitees).await;
        assert_problem(status, &refused, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&refused), ["invitations[0].expires_in_days"]);
    }
    assert_eq!(stack.snapshot().await, before);
}

#[tokio::test]
async fn an_allowlisted_redirect_url_carries_the_link_in_the_email_and_the_answer_also_after_a_resend()
 {
    let stack = Stack::start_with(Options {
        redirect_origins: Some("https://admin.example.com,acme://invite".into()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    let org_id = stack.create_org(&alice, "acme").await;
    let page = "https://admin.example.com/join";
    let invitees = json!([{ "email": bob.email, "redirect_url": page }]);
    let (status, created) = invite(&stack, &alice, &org_id, invitees).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let result = &created["results"][0];
    let link = result["invite_url"].as_str().unwrap();
    assert!(link.starts_with(&format!("{page}?token=")), "{link}");
    assert_eq!(result["invitation"]["redirect_url"], page);
    let mail = stack.mail_to(&bob.email).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].contains(link),
        "the email holds the link: {}",
        mail[0]
    );
    let (status, _) = answer(&stack, None, "lookup", &token_of(link)).await;
    assert_eq!(status, StatusCode::OK);

    let id = result["invitation"]["invitation_id"].as_str().unwrap();
    let path = format!("/orgs/{org_id}/invitations/{id}");
    let (_, shown) = stack.get(&alice, &path).await;
    assert_eq!(shown["redirect_url"], page);
    let (status, resent) = stack.post(&alice, format!("{path}/resend"), None).await;
    assert_eq!(status, StatusCode::OK, "{resent}");
    let again = resent["invite_url"].as_str().unwrap();
    assert!(again.starts_with(&format!("{page}?token=")), "{again}");
    assert_ne!(again, link);
    let mail = stack.mail_to(&bob.email).await;
    assert_eq!(mail.len(), 2);
    assert!(
        mail[1].contains(again),
        "the resent email holds the new link"
    );

    // Without a redirect_url, the configured page; a deep link's origin can be listed too.
    let carol = stack.unique_person("carol");
    let dave = stack.unique_person("dave");
    let invitees = json!([
        { "email": carol.email },
        { "email": dave.email, "redirect_url": "acme://invite/accept" },
    ]);
    let (_, created) = invite(&stack, &alice, &org_id, invitees).await;
    let base = &stack.app.config.invitations.url_base;
    let carol_link = created["results"][0]["invite_url"].as_str().unwrap();
    assert!(
        carol_link.starts_with(&format!("{base}?token=")),
        "{carol_link}"
    );
    let dave_link = created["results"][1]["invite_url"].as_str().unwrap();
    assert!(
        dave_link.starts_with("acme://invite/accept?token="),
        "{dave_link}"
    );
}

#[tokio::test]
async fn a_redirect_url_off_the_allowlist_is_refused_and_sends_nothing() {
    let stack = Stack::start_with(Options {
        redirect_origins: Some("https://admin.example.com".into()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let eve = stack.unique_person("eve");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    for (page, code) in [
        ("https://evil.example.com/join", "origin_not_allowed"),
        ("http://admin.example.com/join", "origin_not_allowed"),
        ("https://admin.example.com/join#frag", "invalid_url"),
        ("join", "invalid_url"),
    ] {
        let invitees = json!([{ "email": eve.email, "redirect_url": page }]);
        let (status, refused) = invite(&stack, &alice, &org_id, invitees).await;
        assert_problem(status, &refused, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&refused), ["invitations[0].redirect_url"]);
        assert_eq!(refused["errors"][0]["code"], code, "{refused}");
    }
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mail_to(&eve.email).await.is_empty());
}

#[tokio::test]
async fn a_redirect_url_with_a_token_parameter_or_a_fragment_is_refused_and_changes_nothing() {
    let stack = Stack::start_with(Options {
        redirect_origins: Some("https://admin.example.com".into()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let bob = stack.unique_person("bob");
    let eve = stack.unique_person("eve");
    let org_id = stack.create_org(&alice, "acme").await;
    let before = stack.snapshot().await;
    for (page, code) in [
        (
            "https://admin.example.com/join?token=mine",
            "reserved_parameter",
        ),
        (
            "https://admin.example.com/join?from=mail&%74oken=x",
            "reserved_parameter",
        ),
        ("https://admin.example.com/join?token", "reserved_parameter"),
        (
            "https://admin.example.com/join?from=mail#token",
            "invalid_url",
        ),
    ] {
        // Bob's entry is fine; Eve's refusal refuses the whole request.
        let invitees = json!([
            { "email": bob.email, "redirect_url": "https://admin.example.com/join?from=mail" },
            { "email": eve.email, "redirect_url": page },
        ]);
        let (status, refused) = invite(&stack, &alice, &org_id, invitees).await;
        assert_problem(status, &refused, StatusCode::BAD_REQUEST, "validation");
        assert_eq!(error_fields(&refused), ["invitations[1].redirect_url"]);
        assert_eq!(refused["errors"][0]["code"], code, "{page}: {refused}");
    }
    assert_eq!(stack.snapshot().await, before);
    assert!(stack.mail_to(&bob.email).await.is_empty());
    assert!(stack.mail_to(&eve.email).await.is_empty());
}
