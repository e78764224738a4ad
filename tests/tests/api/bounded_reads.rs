//! A filtered listing makes a bounded number of Queries, whatever the partition holds: DynamoDB
//! applies a Query's `Limit` before its filter, so a filter that matches few members of a big
//! organization could otherwise cost a Query per member. A page may then be short, or empty,
//! with a cursor that goes on exactly where its reading stopped.

use orgs_local::counting::RequestCounter;
use orgs_shared::store::MAX_QUERIES_PER_PAGE;
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::{Options, Person, Stack};

const MEMBERS: usize = 2_000;

/// Whether the `i`th seeded member is deactivated: a few, spread out, and the very last.
fn deactivated(i: usize) -> bool {
    i % 200 == 137 || i == MEMBERS - 1
}

#[tokio::test]
async fn a_filter_that_matches_few_members_of_thousands_reads_a_bounded_amount_per_page() {
    let counter = RequestCounter::default();
    let stack = Stack::start_with(Options {
        dynamodb_counter: Some(counter.clone()),
        ..Options::default()
    })
    .await;
    let alice = stack.person("alice");
    let org = stack.create_org(&alice, "acme").await;
    let people: Vec<_> = (0..MEMBERS)
        .map(|i| stack.person(&format!("m-{i:04}")))
        .collect();
    let seeds: Vec<_> = people
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let status = if deactivated(i) {
                "deactivated"
            } else {
                "active"
            };
            (p, "member", status)
        })
        .collect();
    stack.add_members(&org, &seeds).await;
    let expected: Vec<String> = people
        .iter()
        .enumerate()
        .filter(|(i, _)| deactivated(*i))
        .map(|(_, p)| p.sub.clone())
        .collect();

    for limit in [1, 7, 100] {
        let path = format!("/orgs/{org}/members?status=deactivated&limit={limit}");
        let walked = walk(&stack, &counter, &alice, &path, limit).await;
        eprintln!(
            "status=deactivated&limit={limit}: Queries per page {:?}",
            walked.queries
        );
        assert_eq!(walked.listed, expected, "limit={limit}");
        assert_eq!(walked.status, ["deactivated"], "limit={limit}");

        // No admin at all: the first page of one reads as far as its Queries may, and ends
        // empty, with a cursor from the last member it read.
        let path = format!("/orgs/{org}/members?role=admin&limit={limit}");
        let walked = walk(&stack, &counter, &alice, &path, limit).await;
        eprintln!(
            "role=admin&limit={limit}: Queries per page {:?}",
            walked.queries
        );
        assert!(walked.listed.is_empty(), "{:?}", walked.listed);
        if limit == 1 {
            assert!(walked.queries.len() > 1, "{:?}", walked.queries);
        }
    }
}

/// What following a listing's cursors to its end found.
struct Walked {
    /// The user ids listed, in order.
    listed: Vec<String>,
    /// The distinct statuses of the members listed.
    status: Vec<String>,
    /// The Queries each page made.
    queries: Vec<u64>,
}

/// Follows `path`'s cursors to the end, holding each page to `MAX_QUERIES_PER_PAGE` Queries.
async fn walk(
    stack: &Stack,
    counter: &RequestCounter,
    who: &Person,
    path: &str,
    limit: usize,
) -> Walked {
    let mut walked = Walked {
        listed: Vec::new(),
        status: Vec::new(),
        queries: Vec::new(),
    };
    let mut cursor: Option<String> = None;
    loop {
        let page_path = match &cursor {
            Some(c) => format!("{path}&cursor={c}"),
            None => path.to_owned(),
        };
        counter.take();
        let (status, page) = stack.get(who, &page_path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        let queries = counter.take().get("Query").copied().unwrap_or(0);
        walked.queries.push(queries);
        assert!(
            queries <= MAX_QUERIES_PER_PAGE as u64,
            "{path}: Queries per page {:?}",
            walked.queries
        );
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= limit, "{page}");
        for member in items {
            walked
                .listed
                .push(member["user_id"].as_str().unwrap().to_owned());
            let status = member["status"].as_str().unwrap().to_owned();
            if !walked.status.contains(&status) {
                walked.status.push(status);
            }
        }
        match &page["next_cursor"] {
            Value::String(next) => cursor = Some(next.clone()),
            Value::Null => return walked,
            other => panic!("next_cursor {other}"),
        }
        assert!(
            walked.queries.len() <= MEMBERS,
            "the cursors go round in circles"
        );
    }
}
