// No drift between the two deployments: the CDK app and infra/template.yaml (as SAM expands it)
// must agree on every function, route, permission, setting and resource of the service.
import { strict as assert } from "node:assert";
import { before, describe, it } from "node:test";

import { GrantSpec } from "../lib/routes";
import { Model, Template, model } from "./model";
import { cdkTemplate, expandedSamTemplate, synthesizeStack, withGrant } from "./support";

describe("the CDK app deploys what the SAM template deploys", () => {
  let sam: Model;
  let cdk: Model;
  before(() => {
    sam = model(expandedSamTemplate());
    cdk = model(cdkTemplate());
  });

  it("has the same functions", () => {
    assert.deepEqual(Object.keys(cdk.functions).sort(), Object.keys(sam.functions).sort());
  });

  it("gives each function the same permissions, managed policies and invokers", () => {
    for (const name of Object.keys(sam.functions)) {
      const [c, s] = [cdk.functions[name], sam.functions[name]];
      assert.ok(c, `${name} is missing from the CDK app`);
      assert.deepEqual(c.permissions, s.permissions, `${name}: IAM actions and resources`);
      assert.deepEqual(c.managedPolicies, s.managedPolicies, `${name}: managed policies`);
      assert.deepEqual(c.invokedBy, s.invokedBy, `${name}: who may invoke it`);
    }
  });

  it("configures each function the same: environment, memory, timeout, architecture, runtime, log group", () => {
    for (const name of Object.keys(sam.functions)) {
      const { permissions: _p, managedPolicies: _m, invokedBy: _i, ...c } = cdk.functions[name] ?? {};
      const { permissions: _q, managedPolicies: _n, invokedBy: _j, ...s } = sam.functions[name];
      assert.deepEqual(c, s, name);
    }
  });

  it("has the same routes, each with the same function and authorization", () => {
    assert.deepEqual(cdk.routes, sam.routes);
    assert.deepEqual(cdk.authorizer, sam.authorizer);
  });

  it("allows the same browsers and throttles the same", () => {
    // SAM writes CORS into the API's OpenAPI body (camelCase), where the translator substitutes
    // the origins parameter's value: expand_sam.py leaves CorsAllowedOrigins at its default, "".
    const then = Object.fromEntries(
      Object.entries<unknown>(cdk.cors.then).map(([k, v]) => [k[0].toLowerCase() + k.slice(1), v]),
    );
    assert.equal(then.allowOrigins, "split(,,${CorsAllowedOrigins})");
    then.allowOrigins = "split(,,)";
    assert.deepEqual({ ...cdk.cors, then }, sam.cors);
    assert.deepEqual(cdk.stage, sam.stage);
  });

  it("writes the same access log, kept as long", () => {
    assert.ok(sam.accessLog, "the SAM template's API has an access log");
    assert.deepEqual(cdk.accessLog, sam.accessLog);
  });

  it("has the same table: keys, indexes, stream, TTL, recovery, encryption, retention, deletion protection", () => {
    assert.deepEqual(cdk.table, sam.table);
  });

  it("feeds the publisher from the stream with the same event source mapping", () => {
    assert.deepEqual(cdk.eventSourceMappings, sam.eventSourceMappings);
    assert.deepEqual(cdk.queues, sam.queues);
    assert.deepEqual(Object.keys(sam.queues).sort(), ["DeliveryDeadLetterQueue", "EventsDeadLetterQueue"]);
  });

  it("has the same alarms, notifying the same topic on the same conditions", () => {
    assert.deepEqual(cdk.alarms, sam.alarms);
    assert.deepEqual(cdk.alarmTopic, sam.alarmTopic);
  });

  it("runs the same schedule", () => {
    assert.deepEqual(cdk.schedules, sam.schedules);
  });

  it("sends with the same SES configuration set, and feeds its events to the same function", () => {
    assert.deepEqual(cdk.delivery, sam.delivery);
    assert.equal(sam.delivery.rules.length, 1);
    assert.equal(sam.delivery.invokeConfigs.length, 1);
  });

  it("takes the same parameters and gives the same outputs", () => {
    assert.deepEqual(cdk.parameters, sam.parameters);
    assert.deepEqual(cdk.outputs, sam.outputs);
  });

  it("names the user pool in a grant on it as the SAM template's generated statement does", () => {
    // No function of the catalog has such a grant yet: one is added to get-me in both, the SAM
    // template's as functions/src/spec/sam.rs renders a grant on the user pool.
    const grant: GrantSpec = { actions: ["cognito-idp:DescribeUserPoolClient"], on: "userPool", keys: [] };
    const samTemplate = expandedSamTemplate();
    const [, samFunction] = Object.entries<any>(samTemplate.Resources).find( // eslint-disable-line @typescript-eslint/no-explicit-any
      ([, r]) => r.Type === "AWS::Lambda::Function" && r.Metadata?.BuildProperties?.Binary === "get-me",
    )!;
    const role = samTemplate.Resources[samFunction.Properties.Role["Fn::GetAtt"][0]];
    role.Properties.Policies[0].PolicyDocument.Statement.push({
      Effect: "Allow",
      Action: grant.actions,
      Resource: {
        "Fn::If": [
          "NamesUserPool",
          { Ref: "CognitoUserPoolArn" },
          { "Fn::Sub": "arn:${AWS::Partition}:cognito-idp:${AWS::Region}:${AWS::AccountId}:userpool/none" },
        ],
      },
    });
    const cdkWith = withGrant("get-me", grant, () => synthesizeStack().template.toJSON()) as Template;
    const [c, s] = [model(cdkWith).functions["get-me"], model(samTemplate).functions["get-me"]];
    assert.ok(s.permissions.some((p) => p.includes("cognito-idp:DescribeUserPoolClient")), `${s.permissions}`);
    assert.deepEqual(c.permissions, s.permissions);
  });

  it("deploys nothing the comparison does not cover", () => {
    assert.deepEqual(cdk.unaccounted, {});
    assert.deepEqual(sam.unaccounted, {});
  });
});
