import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";

import { FUNCTIONS } from "../lib/functions";
import { FUNCTION_NAMES, GrantSpec } from "../lib/routes";
import { OrgsStack } from "../lib/stack";

/** The repository's root: the directory above this one that holds Cargo.toml. */
export function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, "Cargo.toml"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no Cargo.toml above " + __dirname);
    dir = parent;
  }
  return dir;
}

export { FUNCTION_NAMES };

/**
 * A directory laid out as target/lambda is after tests/build-artifacts, with a placeholder for
 * each bootstrap binary: synthesizing packages the files as they are and never runs them.
 */
export function placeholderLambdaDir(names: readonly string[] = FUNCTION_NAMES): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "orgs-cdk-lambda-"));
  for (const name of names) {
    fs.mkdirSync(path.join(dir, name));
    fs.writeFileSync(path.join(dir, name, "bootstrap"), `placeholder for ${name}\n`);
  }
  return dir;
}

/** The app's stack, synthesized in this process as `cdk synth` would. */
export function synthesizeStack(): { app: App; stack: OrgsStack; template: Template } {
  const app = new App();
  const stack = new OrgsStack(app, "orgs", { lambdaDir: placeholderLambdaDir() });
  return { app, stack, template: Template.fromStack(stack) };
}

/**
 * infra/template.yaml expanded by the SAM translator into plain CloudFormation (what SAM would
 * deploy): the file $ORGS_SAM_EXPANDED names (tests/check makes it once for cfn-lint), or made
 * here with infra/expand_sam.py in the pinned infra tools (tests/tools.sh infra).
 */
export function expandedSamTemplate() {
  const given = process.env.ORGS_SAM_EXPANDED;
  if (given) return JSON.parse(fs.readFileSync(given, "utf8"));
  const root = repoRoot();
  const venv = execFileSync(path.join(root, "tests/tools.sh"), ["infra"], { encoding: "utf8" }).trim();
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "orgs-sam-")), "expanded.json");
  execFileSync(path.join(venv, "bin/python"), [path.join(root, "infra/expand_sam.py"), path.join(root, "infra/template.yaml"), out], {
    env: { ...process.env, AWS_DEFAULT_REGION: "us-east-1" },
  });
  return JSON.parse(fs.readFileSync(out, "utf8"));
}

/**
 * The app's template: the one `cdk synth` wrote, if $ORGS_CDK_TEMPLATE names it (tests/check
 * synthesizes once with the CLI), else synthesized here.
 */
export function cdkTemplate() {
  const given = process.env.ORGS_CDK_TEMPLATE;
  if (given) return JSON.parse(fs.readFileSync(given, "utf8"));
  return synthesizeStack().template.toJSON();
}

/**
 * Runs `body` with `grant` added to the catalog's grants of the function `name`, then takes it
 * away: for a kind of grant no function of the catalog has yet.
 */
export function withGrant<T>(name: string, grant: GrantSpec, body: () => T): T {
  const grants = FUNCTIONS[name].grants as GrantSpec[];
  grants.push(grant);
  try {
    return body();
  } finally {
    grants.splice(grants.indexOf(grant), 1);
  }
}
