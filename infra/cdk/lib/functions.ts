// What each function may do, and how long it may take: the CDK side of the `Policies` and
// `Timeout` of every function in infra/template.yaml. Which functions exist and which route each
// serves come from the route table (infra/routes.json); test/parity.test.ts fails if this and
// the SAM template disagree on any action, resource or timeout.

/** A resource a function's policy can name; the construct turns each into an ARN. */
export type Target =
  | "table"
  | "gsi1"
  | "gsi2"
  | "stream"
  /** `dynamodb:ListStreams` has no resource-level permissions. */
  | "any"
  | "eventBus"
  | "deadLetterQueue"
  /**
   * What SES v2 SendEmail is authorised against: the From address's email identity, its domain
   * identity and the delivery configuration set, in this account and region, and only with
   * MailFrom as the From address (the SAM template explains why each).
   */
  | "mailFrom"
  /** The account's SES suppression list: `ses:GetSuppressedDestination` has no resource type. */
  | "suppressionList";

export interface Grant {
  readonly actions: readonly string[];
  readonly on: Target;
}

export interface FunctionSpec {
  /** Seconds; 10 unless said. */
  readonly timeout?: number;
  readonly grants: readonly Grant[];
}

const table = (...actions: string[]): Grant => ({ actions: actions.map((a) => `dynamodb:${a}`), on: "table" });
const sendsMail: Grant = { actions: ["ses:SendEmail"], on: "mailFrom" };
// An address on the suppression list is refused before anything is stored.
const checksSuppression: Grant = { actions: ["ses:GetSuppressedDestination"], on: "suppressionList" };

// There is no IAM action for TransactWriteItems: a transaction is authorised per item by
// PutItem / UpdateItem / DeleteItem / ConditionCheckItem.
export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  "get-me": { grants: [table("GetItem", "PutItem", "UpdateItem", "ConditionCheckItem")] },
  "update-me": { grants: [table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")] },
  "create-org": { grants: [table("PutItem", "UpdateItem", "ConditionCheckItem")] },
  // Memberships by user live on gsi1; the base table is never queried.
  "list-orgs": { grants: [{ actions: ["dynamodb:Query"], on: "gsi1" }, table("BatchGetItem")] },
  "get-org": { grants: [table("BatchGetItem")] },
  "update-org": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "ConditionCheckItem")] },
  "change-org-handle": {
    grants: [table("BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")],
  },
  // Large organizations are deleted in batches after the tombstone transaction.
  "delete-org": {
    timeout: 30,
    grants: [
      table("BatchGetItem", "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "BatchWriteItem"),
    ],
  },
  "list-audit-log": { grants: [table("BatchGetItem", "Query")] },
  // Up to ten invitations, each its own transaction and email, one after the other.
  "create-invitations": {
    timeout: 30,
    grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem"), sendsMail, checksSuppression],
  },
  "list-invitations": { grants: [table("BatchGetItem", "Query")] },
  "get-invitation": { grants: [table("BatchGetItem", "GetItem")] },
  "resend-invitation": {
    grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem"), sendsMail, checksSuppression],
  },
  "revoke-invitation": { grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  "lookup-invitation": { grants: [table("GetItem", "BatchGetItem")] },
  "accept-invitation": { grants: [table("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  "decline-invitation": { grants: [table("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  "list-my-invitations": { grants: [{ actions: ["dynamodb:Query"], on: "gsi1" }, table("BatchGetItem")] },
  "list-members": { grants: [table("BatchGetItem", "Query")] },
  "get-member": { grants: [table("BatchGetItem", "GetItem")] },
  "update-member": { grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "ConditionCheckItem")] },
  "remove-member": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")] },
  "transfer-ownership": { grants: [table("BatchGetItem", "PutItem", "UpdateItem")] },
  "list-teams": { grants: [table("BatchGetItem", "Query")] },
  "create-team": { grants: [table("BatchGetItem", "PutItem", "ConditionCheckItem")] },
  "get-team": { grants: [table("BatchGetItem", "GetItem")] },
  "rename-team": { grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  // Members leave the team in batches, one transaction per batch.
  "delete-team": {
    timeout: 30,
    grants: [table("BatchGetItem", "GetItem", "Query", "PutItem", "UpdateItem", "DeleteItem")],
  },
  "list-team-members": { grants: [table("BatchGetItem", "GetItem", "Query")] },
  "list-team-invitations": { grants: [table("BatchGetItem", "Query")] },
  "add-team-member": { grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem")] },
  "remove-team-member": { grants: [table("BatchGetItem", "GetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  "add-domain": { grants: [table("BatchGetItem", "PutItem", "UpdateItem")] },
  "list-domains": { grants: [table("BatchGetItem", "Query")] },
  "get-domain": { grants: [table("BatchGetItem")] },
  "remove-domain": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  // After its DNS lookup: the claim marker and the domain, on the condition the org is live.
  "verify-domain": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "ConditionCheckItem")] },
  "update-domain": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "ConditionCheckItem")] },
  // The profile and the domain's claim marker, then the organization it names.
  "list-my-suggestions": { grants: [table("GetItem", "BatchGetItem")] },
  "join-org": { grants: [table("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem")] },
  "withdraw-join-request": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  "list-join-requests": { grants: [table("BatchGetItem", "Query")] },
  "approve-join-request": { grants: [table("BatchGetItem", "PutItem", "UpdateItem", "DeleteItem")] },
  "deny-join-request": { grants: [table("BatchGetItem", "PutItem", "UpdateItem")] },

  // Fed by the table's stream: puts each new event record on the bus. Retries inside one call
  // back off for a few seconds while EventBridge is unavailable.
  "publish-events": {
    timeout: 60,
    grants: [
      { actions: ["events:PutEvents"], on: "eventBus" },
      // Reading the table's stream; nothing else of the table.
      { actions: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"], on: "stream" },
      { actions: ["dynamodb:ListStreams"], on: "any" },
      // Malformed event records go here instead of being dropped.
      { actions: ["sqs:SendMessage"], on: "deadLetterQueue" },
    ],
  },

  // Fed SES's delivery events by a rule on the default bus: reads the invitation, and one
  // transaction updates it (on the condition that the report is news) and, for a bounce or a
  // complaint, puts the audit entry and the event record.
  "record-delivery": { grants: [table("GetItem", "UpdateItem", "PutItem")] },

  // Cognito's pre-token-generation trigger, read only: the person's active memberships on gsi1,
  // then the picked organizations' items for their handles. Cognito waits 5 s for it, cold start
  // included; the function answers or fails within one 4 s deadline (TOKEN_CLAIMS_DEADLINE).
  "token-claims": {
    timeout: 5,
    grants: [{ actions: ["dynamodb:Query"], on: "gsi1" }, table("BatchGetItem")],
  },

  // On a schedule: due invitations, abandoned deletions and domains due for a check are read
  // from gsi2, never a Scan; one transaction per invitation; an abandoned deletion is finished
  // with Query and BatchWriteItem; a domain check reads its domain items (BatchGetItem) and
  // updates its claim or unverifies it (a transaction that also checks the org is active).
  // Stops taking work 2 s before the timeout; the next run carries on.
  "expire-invitations": {
    timeout: 300,
    grants: [
      { actions: ["dynamodb:Query"], on: "gsi2" },
      table(
        "UpdateItem",
        "DeleteItem",
        "PutItem",
        "Query",
        "BatchWriteItem",
        "BatchGetItem",
        "ConditionCheckItem",
      ),
    ],
  },
};
