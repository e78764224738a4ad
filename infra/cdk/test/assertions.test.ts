// What the synthesized template must hold, checked with aws-cdk-lib/assertions.
import { strict as assert } from "node:assert";
import { describe, it } from "node:test";

import { App, Stack } from "aws-cdk-lib";
import { Match, Template } from "aws-cdk-lib/assertions";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";

import { Orgs } from "../lib/orgs";
import { GrantSpec, ROUTE_TABLE } from "../lib/routes";
import { OrgsStack } from "../lib/stack";
import { FUNCTION_NAMES, placeholderLambdaDir, synthesizeStack, withGrant } from "./support";

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

  it("protects the table from deletion and keeps its point-in-time recovery", () => {
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: Match.objectLike({
        DeletionProtectionEnabled: true,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
  });

  it("writes a JSON access log of the API to a log group kept AccessLogRetentionDays", () => {
    const [stage] = Object.values(template.findResources("AWS::ApiGatewayV2::Stage"));
    const settings = stage.Properties.AccessLogSettings;
    const line = JSON.parse(settings.Format);
    for (const field of ["requestId", "routeKey", "status", "responseLatency", "integrationErrorMessage", "ip", "httpMethod", "path"]) {
      assert.ok(line[field]?.startsWith("$context."), field);
    }
    const group = template.findResources("AWS::Logs::LogGroup")[settings.DestinationArn["Fn::GetAtt"][0]];
    assert.deepEqual(group.Properties.RetentionInDays, { Ref: "AccessLogRetentionDays" });
  });

  it("watches every function's throttles, and every alarm notifies the alarm topic when there is one", () => {
    const alarms = Object.values(template.findResources("AWS::CloudWatch::Alarm"));
    const throttled = alarms.filter((a) => a.Properties.MetricName === "Throttles");
    assert.equal(throttled.length, FUNCTION_NAMES.length);
    for (const alarm of alarms) {
      const actions = alarm.Properties.AlarmActions;
      assert.ok(actions["Fn::If"], JSON.stringify(alarm.Properties));
      assert.deepEqual(alarm.Properties.OKActions, actions);
      assert.deepEqual(actions["Fn::If"][2], { Ref: "AWS::NoValue" });
    }
    for (const metric of ["Reputation.BounceRate", "Reputation.ComplaintRate", "IteratorAge"]) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: metric });
    }
  });

  it("gives every function single sign-on's user pool id, from CognitoUserPoolArn when it is given, and app client", () => {
    const functions = Object.values(template.findResources("AWS::Lambda::Function"));
    assert.equal(functions.length, FUNCTION_NAMES.length);
    for (const fn of functions) {
      const variables = fn.Properties.Environment.Variables;
      assert.deepEqual(variables.ORGS_SSO_APP_CLIENT_ID, { Ref: "SsoAppClientId" });
      const [condition, given, none] = variables.ORGS_USER_POOL_ID["Fn::If"];
      assert.deepEqual(given, { "Fn::Select": [1, { "Fn::Split": ["userpool/", { Ref: "CognitoUserPoolArn" }] }] });
      assert.equal(none, "");
      assert.deepEqual(template.toJSON().Conditions[condition], {
        "Fn::Not": [{ "Fn::Equals": [{ Ref: "CognitoUserPoolArn" }, ""] }],
      });
    }
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

  it("creates an alarm topic for an email address, uses a topic given, and leaves alarms without action otherwise", () => {
    const orgs = (settings: { alarmEmail?: string; alarmTopicArn?: string }) => {
      const stack = new Stack(new App(), "mine");
      new Orgs(stack, "Orgs", {
        lambdaDir: placeholderLambdaDir(),
        jwtIssuer: "https://issuer.example.com",
        jwtAudience: ["client-id"],
        mailFrom: "no-reply@example.com",
        inviteUrlBase: "https://app.example.com/invite",
        ...settings,
      });
      const template = Template.fromStack(stack);
      const actions = Object.values(template.findResources("AWS::CloudWatch::Alarm")).map((a) => a.Properties.AlarmActions);
      return { template, actions };
    };

    const mailed = orgs({ alarmEmail: "ops@example.com" });
    mailed.template.resourceCountIs("AWS::SNS::Topic", 1);
    const [topicId] = Object.keys(mailed.template.findResources("AWS::SNS::Topic"));
    mailed.template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "ops@example.com",
      TopicArn: { Ref: topicId },
    });
    for (const actions of mailed.actions) assert.deepEqual(actions, [{ Ref: topicId }]);

    const arn = "arn:aws:sns:us-east-1:123456789012:ops";
    const given = orgs({ alarmTopicArn: arn });
    given.template.resourceCountIs("AWS::SNS::Topic", 0);
    given.template.resourceCountIs("AWS::SNS::Subscription", 0);
    for (const actions of given.actions) assert.deepEqual(actions, [arn]);

    const silent = orgs({});
    silent.template.resourceCountIs("AWS::SNS::Topic", 0);
    assert.ok(silent.actions.length > FUNCTION_NAMES.length);
    for (const actions of silent.actions) assert.equal(actions, undefined);
  });

  it("attaches the Cognito triggers to a user pool it is given: token-claims as its version 2 pre-token-generation trigger, create-first-org as its Post Confirmation trigger", () => {
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
    const functionId = (name: string) =>
      Object.entries(template.findResources("AWS::Lambda::Function")).find(
        ([, r]) => r.Metadata?.["orgs:function"] === name,
      )![0];
    template.hasResourceProperties("AWS::Cognito::UserPool", {
      LambdaConfig: {
        PreTokenGenerationConfig: {
          LambdaArn: { "Fn::GetAtt": [functionId("token-claims"), "Arn"] },
          LambdaVersion: "V2_0",
        },
        PostConfirmation: { "Fn::GetAtt": [functionId("create-first-org"), "Arn"] },
      },
    });
    // Only that pool may invoke them: CDK's permissions name the pool; none admits any pool.
    const permissions = Object.values(template.findResources("AWS::Lambda::Permission")).filter(
      (p) => p.Properties.Principal === "cognito-idp.amazonaws.com",
    );
    assert.equal(permissions.length, 2);
    for (const permission of permissions) {
      assert.ok(JSON.stringify(permission.Properties.SourceArn).includes("Pool"));
    }
  });
});

describe("single sign-on's user pool in the Orgs construct", () => {
  // No function of the catalog has a grant on the user pool yet: get-me gets one here.
  const grant: GrantSpec = { actions: ["cognito-idp:DescribeUserPoolClient"], on: "userPool", keys: [] };
  const synthesize = (settings: { cognitoUserPoolArn?: string; ssoAppClientId?: string }) =>
    withGrant("get-me", grant, () => {
      const stack = new Stack(new App(), "mine");
      new Orgs(stack, "Orgs", {
        lambdaDir: placeholderLambdaDir(),
        jwtIssuer: "https://issuer.example.com",
        jwtAudience: ["client-id"],
        mailFrom: "no-reply@example.com",
        inviteUrlBase: "https://app.example.com/invite",
        cognitoUserPoolArn: settings.cognitoUserPoolArn,
        ssoAppClientId: settings.ssoAppClientId,
      });
      const template = Template.fromStack(stack);
      const [getMe] = Object.values(template.findResources("AWS::Lambda::Function", {
        Metadata: { "orgs:function": "get-me" },
      }));
      const statements = Object.values(template.findResources("AWS::IAM::Role"))
        .filter((r) => JSON.stringify(r).includes("cognito-idp:"))
        .flatMap((r) => r.Properties.Policies.flatMap((p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement));
      const statement = statements.find((st: any) => st.Action === "cognito-idp:DescribeUserPoolClient") as any; // eslint-disable-line @typescript-eslint/no-explicit-any
      return { variables: getMe.Properties.Environment.Variables, resource: statement?.Resource, template };
    });

  it("names the pool ARN given, and passes its id and the app client to the functions", () => {
    const arn = "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEf123";
    const { variables, resource } = synthesize({ cognitoUserPoolArn: arn, ssoAppClientId: "1example23456789" });
    assert.equal(resource, arn);
    assert.equal(variables.ORGS_USER_POOL_ID, "eu-west-1_AbCdEf123");
    assert.equal(variables.ORGS_SSO_APP_CLIENT_ID, "1example23456789");
  });

  it("refuses the ARN of the pool it attaches the triggers to, which would be a dependency cycle", () => {
    assert.throws(() => {
      const stack = new Stack(new App(), "mine");
      const userPool = new cognito.UserPool(stack, "Pool");
      new Orgs(stack, "Orgs", {
        lambdaDir: placeholderLambdaDir(),
        jwtIssuer: "https://issuer.example.com",
        jwtAudience: ["client-id"],
        mailFrom: "no-reply@example.com",
        inviteUrlBase: "https://app.example.com/invite",
        userPool,
        cognitoUserPoolArn: userPool.userPoolArn,
        ssoAppClientId: "1example23456789",
      });
    }, /dependency cycle/);
  });

  it("without a pool, names a pool ARN no pool of the account has, and leaves single sign-on off", () => {
    const { variables, resource } = synthesize({});
    assert.deepEqual(resource, {
      "Fn::Join": [
        "",
        ["arn:", { Ref: "AWS::Partition" }, ":cognito-idp:", { Ref: "AWS::Region" }, ":", { Ref: "AWS::AccountId" }, ":userpool/none"],
      ],
    });
    assert.equal(variables.ORGS_USER_POOL_ID, "");
    assert.equal(variables.ORGS_SSO_APP_CLIENT_ID, "");
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
