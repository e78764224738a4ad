// What the synthesized template must hold, checked with aws-cdk-lib/assertions.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";

import { Orgs } from "../lib/orgs";
import { ROUTE_TABLE } from "../lib/routes";
import { OrgsStack } from "../lib/stack";
import { FUNCTION_NAMES, placeholderLambdaDir, synthesizeStack } from "./support";

describe("the app's stack", () => {
  const { app, template } = synthesizeStack();

  it("serves every route of the route table, public only where the table says so", () => {
    template.resourceCountIs("AWS::ApiGatewayV2::Route", ROUTE_TABLE.routes.length);
    for (const route of ROUTE_TABLE.routes) {
      template.hasResourceProperties("AWS::ApiGatewayV2::Route", {
        RouteKey: `${route.method} ${route.path}`,
        AuthorizationType: route.auth === "public" ? "NONE" : "JWT",
      });
    }
    template.hasResourceProperties("AWS::ApiGatewayV2::Authorizer", {
      AuthorizerType: "JWT",
      JwtConfiguration: { Issuer: { Ref: "JwtIssuer" }, Audience: { Ref: "JwtAudience" } },
    });
  });

  it("runs every function as an arm64 provided.al2023 bootstrap, named in its metadata", () => {
    template.resourceCountIs("AWS::Lambda::Function", FUNCTION_NAMES.length);
    template.resourcePropertiesCountIs(
      "AWS::Lambda::Function",
      { Runtime: "provided.al2023", Architectures: ["arm64"], Handler: "bootstrap" },
      FUNCTION_NAMES.length,
    );
    for (const name of FUNCTION_NAMES) {
      template.hasResource("AWS::Lambda::Function", { Metadata: Match.objectLike({ "orgs:function": name }) });
    }
  });

  it("keeps the table when the stack goes, and streams it to the publisher with partial-batch reporting", () => {
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        StreamSpecification: { StreamViewType: "NEW_AND_OLD_IMAGES" },
        TimeToLiveSpecification: { AttributeName: "expire_at", Enabled: true },
      }),
    });
    template.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
      FunctionResponseTypes: ["ReportBatchItemFailures"],
      StartingPosition: "TRIM_HORIZON",
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: { Ref: "ExpiryScheduleRate" } });
  });

  it("has no cdk-nag AwsSolutions finding that is not acknowledged with a reason", () => {
    const report = new AwsSolutionsChecks(app).validateScope(app);
    const findings = report.violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));
    assert.deepEqual(findings, []);
  });
});

describe("the Orgs construct", () => {
  it("refuses to synthesize without a built bootstrap for every function", () => {
    const lambdaDir = placeholderLambdaDir(FUNCTION_NAMES.filter((n) => n !== "get-me"));
    assert.throws(() => new OrgsStack(new App(), "orgs", { lambdaDir }), /get-me\/bootstrap does not exist/);
  });

  it("drops into a stack of one's own with plain values and the SAM template's defaults", () => {
    const stack = new Stack(new App(), "mine");
    new Orgs(stack, "Orgs", {
      lambdaDir: placeholderLambdaDir(),
      jwtIssuer: "https://issuer.example.com",
      jwtAudience: ["client-id"],
      mailFrom: "no-reply@example.com",
      inviteUrlBase: "https://app.example.com/invite",
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({ ORGS_MAX_MEMBERS: "10000", ORGS_INVITATION_TTL_SECONDS: "604800", RUST_LOG: "info" }),
      },
    });
    template.hasResourceProperties("AWS::Events::Rule", { ScheduleExpression: "rate(1 hour)" });
    template.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
  });

  it("attaches token-claims to a user pool it is given, as its version 2 pre-token-generation trigger", () => {
    const stack = new Stack(new App(), "mine");
    const pool = new cognito.UserPool(stack, "Pool", { featurePlan: cognito.FeaturePlan.ESSENTIALS });
    new Orgs(stack, "Orgs", {
      lambdaDir: placeholderLambdaDir(),
      jwtIssuer: "https://issuer.example.com",
      jwtAudience: ["client-id"],
      mailFrom: "no-reply@example.com",
      inviteUrlBase: "https://app.example.com/invite",
      userPool: pool,
    });
    const template = Template.fromStack(stack);
    const [triggerId] = Object.entries(template.findResources("AWS::Lambda::Function")).find(([, r]) =>
      JSON.stringify(r.Properties.Environment ?? {}).includes("ORGS_TOKEN_MAX_ORGS"),
    )!;
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      LambdaConfig: {
        PreTokenGenerationConfig: {
          LambdaArn: { "Fn::GetAtt": [triggerId, "Arn"] },
          LambdaVersion: "V2_0",
        },
      },
    });
    // Only that pool may invoke it: CDK's permission names the pool; none admits any pool.
    const permissions = Object.values(template.findResources("AWS::Lambda::Permission")).filter(
      (p) => p.Properties.Principal === "cognito-idp.amazonaws.com",
    );
    assert.equal(permissions.length, 1);
    assert.ok(JSON.stringify(permissions[0].Properties.SourceArn).includes("Pool"));
  });
});

describe("cdk-nag", () => {
  it("does report findings: an unacknowledged queue without TLS enforcement fails", () => {
    const app = new App();
    new sqs.Queue(new Stack(app, "plain"), "Queue");
    const rules = new AwsSolutionsChecks(app).validateScope(app).violations.map((v) => v.ruleName);
    assert.ok(rules.includes("AwsSolutions-SQS4"), `${rules}`);
  });
});
