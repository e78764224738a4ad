// What each function may do, and how long it may take: the catalog of functions/src/spec, as
// infra/functions.json exports it. The same catalog generates the per-function blocks of
// infra/template.yaml; test/parity.test.ts holds the two deployments equal.
import { CATALOG, GrantSpec } from "./routes";

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
  /** record-delivery's on-failure destination. */
  | "deliveryDeadLetterQueue"
  /**
   * What SES v2 SendEmail is authorised against: the From address's email identity, its domain
   * identity and the delivery configuration set, in this account and region, and only with
   * MailFrom as the From address (the SAM template explains why each).
   */
  | "mailFrom"
  /** The account's SES suppression list: `ses:GetSuppressedDestination` has no resource type. */
  | "suppressionList";

export interface FunctionSpec {
  readonly description: string;
  readonly timeout: number;
  readonly memorySize: number;
  readonly grants: readonly GrantSpec[];
}

export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = Object.fromEntries(
  CATALOG.map((f) => [
    f.name,
    { description: f.description, timeout: f.timeoutSeconds, memorySize: f.memoryMb, grants: f.grants },
  ]),
);
