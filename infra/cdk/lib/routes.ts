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
}

export const ROUTE_TABLE: RouteTable = table as RouteTable;
