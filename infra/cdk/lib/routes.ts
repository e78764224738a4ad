// The function catalog of functions/src/spec, as infra/functions.json exports it (a Rust test
// keeps the file equal to the catalog). The construct builds its functions, policies and routes
// from it, so they cannot drift from the code's.
import catalog from "../../functions.json";

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
  | "suppressionList"
  /**
   * The deployer's Cognito user pool (`cognitoUserPoolArn`): single sign-on's identity providers
   * and app client. Without a pool, a pool ARN no pool of the account has.
   */
  | "userPool";

export interface Route {
  readonly method: string;
  /** With `{name}` for path parameters, as API Gateway writes them. */
  readonly path: string;
  /** The function (binary) that serves it. */
  readonly function: string;
  /** "public" routes skip the JWT authorizer. */
  readonly auth: "jwt" | "public";
}

export type Trigger =
  | { readonly kind: "http"; readonly method: string; readonly path: string; readonly auth: "jwt" | "public" }
  | { readonly kind: "stream" | "schedule" | "sesEvents" | "cognitoTrigger" | "cognitoPostConfirmation" };

export interface GrantSpec {
  readonly actions: readonly string[];
  readonly on: Target;
  /** Partition-key prefixes (`ORG#`) the grant is limited to; empty, any key. */
  readonly keys: readonly string[];
}

export interface FunctionEntry {
  readonly name: string;
  readonly description: string;
  readonly trigger: Trigger;
  readonly timeoutSeconds: number;
  readonly memoryMb: number;
  readonly grants: readonly GrantSpec[];
}

export const CATALOG: readonly FunctionEntry[] = (catalog as { functions: FunctionEntry[] }).functions;

const named = (kind: Trigger["kind"]) => CATALOG.filter((f) => f.trigger.kind === kind).map((f) => f.name);

export interface RouteTable {
  readonly routes: readonly Route[];
  /** Functions the table's stream feeds. */
  readonly streamFunctions: readonly string[];
  /** Functions a schedule invokes. */
  readonly scheduledFunctions: readonly string[];
  /** Functions a Cognito user pool invokes as its pre-token-generation trigger. */
  readonly cognitoTriggers: readonly string[];
  /** Functions a Cognito user pool invokes as its Post Confirmation trigger. */
  readonly cognitoPostConfirmation: readonly string[];
  /** Functions a rule on the default bus invokes with SES's delivery events. */
  readonly sesEventFunctions: readonly string[];
}

export const ROUTE_TABLE: RouteTable = {
  routes: CATALOG.flatMap((f) =>
    f.trigger.kind === "http"
      ? [{ method: f.trigger.method, path: f.trigger.path, function: f.name, auth: f.trigger.auth }]
      : [],
  ),
  streamFunctions: named("stream"),
  scheduledFunctions: named("schedule"),
  cognitoTriggers: named("cognitoTrigger"),
  cognitoPostConfirmation: named("cognitoPostConfirmation"),
  sesEventFunctions: named("sesEvents"),
};

/** Every function: those that serve a route, and those the stream, a schedule, Cognito or SES's events invoke. */
export const FUNCTION_NAMES: readonly string[] = CATALOG.map((f) => f.name);
