// The route table of functions/src/routes.rs, as infra/routes.json exports it (a Rust test keeps
// the file equal to the table). The construct builds its routes and functions from it, so they
// cannot drift from the code's.
import table from "../../routes.json";

export interface Route {
  readonly method: string;
  /** With `{name}` for path parameters, as API Gateway writes them. */
  readonly path: string;
  /** The function (binary) that serves it. */
  readonly function: string;
  /** "public" routes skip the JWT authorizer. */
  readonly auth: "jwt" | "public";
}

export interface RouteTable {
  readonly routes: readonly Route[];
  /** Functions the table's stream feeds. */
  readonly streamFunctions: readonly string[];
  /** Functions a schedule invokes. */
  readonly scheduledFunctions: readonly string[];
  /** Functions a Cognito user pool invokes as its triggers (none until the table names one). */
  readonly cognitoTriggers: readonly string[];
  /** Functions a rule on the default bus invokes with SES's delivery events. */
  readonly sesEventFunctions: readonly string[];
}

export const ROUTE_TABLE: RouteTable = {
  cognitoTriggers: [],
  sesEventFunctions: [],
  ...(table as Partial<RouteTable>),
} as RouteTable;

/** Every function: those that serve a route, and those the stream, a schedule, Cognito or SES's events invoke. */
export const FUNCTION_NAMES: readonly string[] = [
  ...ROUTE_TABLE.routes.map((r) => r.function),
  ...ROUTE_TABLE.streamFunctions,
  ...ROUTE_TABLE.scheduledFunctions,
  ...ROUTE_TABLE.cognitoTriggers,
  ...ROUTE_TABLE.sesEventFunctions,
];
