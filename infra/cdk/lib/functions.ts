// What each function may do, and how long it may take: the catalog of functions/src/spec, as
// infra/functions.json exports it. The same catalog generates the per-function blocks of
// infra/template.yaml; test/parity.test.ts holds the two deployments equal.
import { CATALOG, GrantSpec } from "./routes";

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
