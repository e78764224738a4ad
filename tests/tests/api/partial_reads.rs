//! DynamoDB may read only part of a `BatchGetItem`: the keys of a throttled partition come back
//! in `UnprocessedKeys`. moto always reads them all; the fault proxy's `PartlyUnprocessed`
//! leaves them unread, as DynamoDB does.

use orgs_local::faults::{Fault, Rule, When};
use orgs_shared::store::Partition;
use reqwest::{Method, StatusCode};

use crate::common::Stack;
use crate::faults::assert_unavailable;

/// Every key the reads of an organization name is in its partition.
const ORG_PARTITIONS: &str = Partition::Org.prefix();

fn leave_reads_unprocessed(stack: &Stack, when: When) {
    stack
        .faults()
        .inject(Rule::new(Fault::PartlyUnprocessed(ORG_PARTITIONS), when).on("BatchGetItem"));
}

#[tokio::test]
async fn keys_left_unread_are_read_again_and_the_answer_is_whole() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    let path = format!("/orgs/{org_id}");
    let (_, whole) = stack.get(&alice, &path).await;

    leave_reads_unprocessed(&stack, When::Nth(1));
    let (status, org) = stack.get(&alice, &path).await;
    let calls = stack.faults().calls();
    stack.faults().clear();
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(org, whole);
    let reads: Vec<_> = calls
        .iter()
        .filter(|c| c.operation == "BatchGetItem")
        .collect();
    assert_eq!(
        reads[0].fault,
        Some(Fault::PartlyUnprocessed(ORG_PARTITIONS))
    );
    assert!(reads.len() >= 2, "read again: {calls:?}");
}

#[tokio::test]
async fn keys_that_stay_unread_answer_503_with_retry_after() {
    let stack = Stack::faulty().await;
    let alice = stack.person("alice");
    let org_id = stack.create_org(&alice, "acme").await;
    leave_reads_unprocessed(&stack, When::Always);
    let (status, headers, body) = stack
        .call_with_headers(&alice, Method::GET, format!("/orgs/{org_id}"), None)
        .await;
    stack.faults().clear();
    assert_unavailable(&stack, status, &headers, &body);
}
