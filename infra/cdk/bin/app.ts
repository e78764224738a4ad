// The thin app: the Orgs construct in a stack of its own, with the SAM template's parameters,
// checked with cdk-nag's AwsSolutions rules (a finding that is not acknowledged with a reason
// fails the synth). Context: lambdaDir (default ../../target/lambda), stackName (default orgs).
import * as path from "node:path";

import { App, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";

import { OrgsStack } from "../lib/stack";

const app = new App();
const stackName: string = app.node.tryGetContext("stackName") ?? "orgs";
new OrgsStack(app, stackName, {
  lambdaDir: path.resolve(app.node.getContext("lambdaDir")),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
