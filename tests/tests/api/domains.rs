//! Email domains: owners add and remove them, admins read them; public providers and the
//! service's own domains are refused; the domain limit holds.

use orgs_shared::domain::Limits;
use orgs_shared::store::{Of, Stored};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::{Options, Stack, assert_problem};

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
        .post(&olivia, &domains, json!({ "domain": " Acme.Example. " }))
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
