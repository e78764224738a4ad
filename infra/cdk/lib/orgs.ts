import * as fs from "node:fs";
import * as path from "node:path";

import {
  Aws,
  CfnCondition,
  CfnParameter,
  CfnResource,
  Duration,
  Fn,
  Reference,
  RemovalPolicy,
  Token,
  Tokenization,
  Validations,
} from "aws-cdk-lib";
import * as apigwv2 from "aws-cdk-lib/aws-apigatewayv2";
import { HttpJwtAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import * as cognito from "aws-cdk-lib/aws-cognito";
import * as dynamodb from "aws-cdk-lib/aws-dynamodb";
import * as events from "aws-cdk-lib/aws-events";
import * as targets from "aws-cdk-lib/aws-events-targets";
import * as iam from "aws-cdk-lib/aws-iam";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as ses from "aws-cdk-lib/aws-ses";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

import { FUNCTIONS } from "./functions";
import { ACCESS_LOG_FORMAT, Alarms } from "./operations";
import { FUNCTION_NAMES, GrantSpec, ROUTE_TABLE, Target } from "./routes";

/**
 * The settings of one `orgs` deployment: the parameters of infra/template.yaml, with the same
 * defaults. Any value may be a CloudFormation token (a parameter of the stack, for instance).
 */
export interface OrgsProps {
  /**
   * Directory that holds `<function>/bootstrap` for every function, built for arm64: the
   * repository's `target/lambda` after `tests/build-artifacts`.
   */
  readonly lambdaDir: string;
  /** OIDC issuer URL whose tokens the HTTP API accepts. */
  readonly jwtIssuer: string;
  /** Accepted JWT audiences ("aud", or "client_id" for Cognito access tokens). */
  readonly jwtAudience: string[];
  /** Origins that may call the API from a browser, comma separated. Default "": none. */
  readonly corsAllowedOrigins?: string;
  /** EventBridge bus that domain events are published to. Default "default". */
  readonly eventBusName?: string;
  /** SES v2 verified sender address for invitation emails. */
  readonly mailFrom: string;
  /** Accept-invitation page of the front end; links are {inviteUrlBase}?token={token}. */
  readonly inviteUrlBase: string;
  /** Origins (comma separated) whose pages an invitation's redirect_url may name. Default none. */
  readonly inviteRedirectOrigins?: string;
  /** Default 604800 (seven days). */
  readonly invitationTtlSeconds?: number;
  /** Default 1000. */
  readonly maxPendingInvitations?: number;
  /** Default 200. */
  readonly maxInvitationEmailsPerDay?: number;
  /** Default 5. */
  readonly maxResendsPerDay?: number;
  /** Default 10000. */
  readonly maxMembers?: number;
  /** Organizations one person may own at once. Default 10. */
  readonly maxOrgsPerOwner?: number;
  /** Invitation emails one person may cause per UTC day, across their organizations. Default 500. */
  readonly maxInvitationEmailsPerPersonPerDay?: number;
  /** Invitation emails an organization may send in its first 24 hours. Default 20. */
  readonly maxInvitationEmailsNewOrg?: number;
  /** Whether invitation emails carry Reply-To the inviter's verified address. Default true. */
  readonly invitationReplyToInviter?: boolean | string;
  /** The product's name, in the welcome email to an invitee without an account. Default "orgs". */
  readonly productName?: string;
  /**
   * Sign-up page of the front end, linked from the welcome email as
   * {signUpUrl}#invitation={accept link}. Default "": the accept link itself.
   */
  readonly signUpUrl?: string;
  /**
   * Whether a person who signs up gets an organization of their own (the create-first-org
   * Cognito trigger; for other identity providers, their first GET /me). Default false.
   */
  readonly createOrgOnSignUp?: boolean | string;
  /** The region ("us" or "eu") of the organization made at sign-up. Default "us". */
  readonly firstOrgRegion?: string;
  /** Bytes of compact JSON in each kind of metadata. Default 8192. */
  readonly maxMetadataBytes?: number;
  /** Email domains an organization may add. Default 10. */
  readonly maxDomains?: number;
  /** Custom roles (for members and for teams) an organization may define. Default 20. */
  readonly maxRoles?: number;
  /** Permissions one custom role may grant. Default 100. */
  readonly maxRolePermissions?: number;
  /** Join requests waiting for an admin in one organization. Default 5000. */
  readonly maxPendingJoinRequests?: number;
  /** Join requests one person may have waiting, across organizations. Default 5. */
  readonly maxJoinRequestsPerPerson?: number;
  /** Public email provider domains nobody may claim (comma separated). Default "": the built-in list. */
  readonly publicEmailDomains?: string;
  /** The service's own domains, which nobody may claim (comma separated). Default "". */
  readonly serviceDomains?: string;
  /** The application's own permissions (`key=description`, comma separated). Default "". */
  readonly appPermissions?: string;
  /** The DNS resolver (address:port) domain verification asks. Default "1.1.1.1:53". */
  readonly dnsResolver?: string;
  /** Hours between re-checks of a verified domain's TXT record. Default 24. */
  readonly domainRecheckHours?: number;
  /** Hours a verified domain's record may be missing before it is unverified. Default 72. */
  readonly domainGraceHours?: number;
  /** EventBridge schedule expression of the invitation expiry. Default "rate(1 hour)". */
  readonly expiryScheduleRate?: string;
  /** Requests per second for the whole API. Default 100. */
  readonly apiThrottlingRateLimit?: number;
  /** Requests at once above the steady rate. Default 200. */
  readonly apiThrottlingBurstLimit?: number;
  /** RUST_LOG filter for every function. Default "info". */
  readonly logLevel?: string;
  /**
   * The user pool that may invoke the Cognito triggers (token-claims, create-first-org), and the
   * one single sign-on creates the organizations' identity providers in: the functions' Cognito
   * permissions name it alone, and every function is given its id. Default "": any user pool of
   * this account may invoke the triggers, and single sign-on is off. Not the ARN of `userPool`:
   * that pool names the trigger functions, which would then name it (a dependency cycle).
   */
  readonly cognitoUserPoolArn?: string;
  /**
   * The app client of that pool whose hosted sign-in lists the organizations' identity providers;
   * it must also be among `jwtAudience`. Default "": single sign-on is off.
   */
  readonly ssoAppClientId?: string;
  /** The most organizations the token-claims trigger names in one token. Default 20. */
  readonly tokenMaxOrgs?: number;
  /**
   * An existing SNS topic that every alarm notifies (when it fires and when it clears). Default
   * none: with no `alarmEmail` either, the alarms exist with no action.
   */
  readonly alarmTopicArn?: string;
  /**
   * An address subscribed (it must confirm) to the alarm topic: `alarmTopicArn`, or without one
   * a topic the construct creates. Default none.
   */
  readonly alarmEmail?: string;
  /** Days the HTTP API's access log keeps its entries. Default 30. */
  readonly accessLogRetentionDays?: logs.RetentionDays;
  /**
   * A user pool of the same app to attach the Cognito triggers to: token-claims becomes its
   * pre-token-generation trigger, event version 2 (V2_0; claims in access tokens need the
   * pool's Essentials or Plus tier), create-first-org its Post Confirmation trigger, and only
   * that pool may invoke them. Default none: attach them yourself, within `cognitoUserPoolArn`.
   */
  readonly userPool?: cognito.UserPool;
}

/** `get-me` as `GetMe`, for construct ids. */
const pascal = (name: string) => name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());

const number = (value: number | undefined, fallback: number) => Tokenization.stringifyNumber(value ?? fallback);

/**
 * The whole `orgs` service: one Lambda function per operation behind an HTTP API with a JWT
 * authorizer and an access log, one DynamoDB table, the stream-fed event publisher with its
 * dead-letter queue, the scheduled invitation expiry, and the alarms (with their topic).
 * Deploys what infra/template.yaml deploys.
 *
 * One per stack: log group names are `/aws/lambda/<stack name>/<function>`, as SAM names them.
 */
export class Orgs extends Construct {
  readonly table: dynamodb.Table;
  readonly httpApi: apigwv2.HttpApi;
  readonly eventsDeadLetterQueue: sqs.Queue;
  /** SES delivery reports record-delivery could not record: its on-failure destination. */
  readonly deliveryDeadLetterQueue: sqs.Queue;
  /** The HTTP API's access log: one JSON line per request. */
  readonly apiAccessLog: logs.LogGroup;
  /** The topic the alarms notify, if any (a token when it depends on parameters). */
  readonly alarmTopicArn?: string;
  /** The SES configuration set every invitation email names. */
  readonly deliveryConfigurationSet: ses.CfnConfigurationSet;
  /** Every function, by name (`get-me`, ...). */
  readonly functions: Readonly<Record<string, lambda.Function>>;
  /** Invoke URL of the HTTP API's `$default` stage. */
  readonly apiUrl: string;

  constructor(scope: Construct, id: string, props: OrgsProps) {
    super(scope, id);
    const names = FUNCTION_NAMES;

    // ---------------------------------------------------------------- Table
    // Single-table design; the same keys, indexes, stream and TTL as the SAM template's Table.
    this.table = new dynamodb.Table(this, "Table", {
      partitionKey: { name: "pk", type: dynamodb.AttributeType.STRING },
      sortKey: { name: "sk", type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // The stream carries the outbox (event items written in the same transaction as a change).
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: "expire_at",
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
      // Deleting the table fails until this is turned off.
      deletionProtection: true,
    });
    for (const index of ["gsi1", "gsi2"]) {
      this.table.addGlobalSecondaryIndex({
        indexName: index,
        partitionKey: { name: `${index}pk`, type: dynamodb.AttributeType.STRING },
        sortKey: { name: `${index}sk`, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }

    // ---------------------------------------------------------------- Dead letters
    this.eventsDeadLetterQueue = deadLetterQueue(
      this,
      "EventsDeadLetterQueue",
      "the publisher's stream event source mapping's failure destination",
      "Only the Lambda service (the event source mapping's failure destination) and the publisher, " +
        "through the AWS SDK over TLS, send to it",
    );
    // Delivery reports that record-delivery could not record, kept 14 days for a replay.
    this.deliveryDeadLetterQueue = deadLetterQueue(
      this,
      "DeliveryDeadLetterQueue",
      "record-delivery's on-failure destination",
      "Only Lambda (the on-failure destination, with record-delivery's role) sends to it, over TLS",
    );
    // ---------------------------------------------------------------- Alarms
    const alarms = new Alarms(this, "Alarms", { alarmTopicArn: props.alarmTopicArn, alarmEmail: props.alarmEmail });
    this.alarmTopicArn = alarms.topicArn;
    // Anything in the dead-letter queue needs a person: events that were not published.
    alarms.add("EventsDeadLetterAlarm", {
      alarmDescription: "Event records that could not be published are waiting in the dead-letter queue.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: [{ name: "QueueName", value: this.eventsDeadLetterQueue.queueName }],
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    alarms.add("DeliveryDeadLetterAlarm", {
      alarmDescription: "SES delivery reports that could not be recorded are waiting in the delivery dead-letter queue.",
      namespace: "AWS/SQS",
      metricName: "ApproximateNumberOfMessagesVisible",
      dimensions: [{ name: "QueueName", value: this.deliveryDeadLetterQueue.queueName }],
      statistic: "Maximum",
      period: 300,
      evaluationPeriods: 1,
      threshold: 0,
      comparisonOperator: "GreaterThanThreshold",
    });
    alarms.addSesReputation();

    // ---------------------------------------------------------------- Delivery
    // Every invitation email names this configuration set: it suppresses addresses that bounce
    // or complain (in the account's suppression list, which the create and resend functions
    // read before inviting), and publishes each email's events to the default bus (SES's
    // EventBridge destinations publish only there), where a rule feeds record-delivery.
    this.deliveryConfigurationSet = new ses.CfnConfigurationSet(this, "DeliveryConfigurationSet", {
      suppressionOptions: { suppressedReasons: ["BOUNCE", "COMPLAINT"] },
    });
    const configurationSet = this.deliveryConfigurationSet.ref;
    new ses.CfnConfigurationSetEventDestination(this, "DeliveryEventDestination", {
      configurationSetName: configurationSet,
      eventDestination: {
        name: "delivery-events",
        enabled: true,
        matchingEventTypes: ["send", "delivery", "deliveryDelay", "bounce", "complaint", "reject"],
        eventBridgeDestination: {
          eventBusArn: `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/default`,
        },
      },
    });

    // ---------------------------------------------------------------- Functions
    const mailFrom = props.mailFrom;
    const sesArn = (resource: string) => `arn:${Aws.PARTITION}:ses:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    // The deployer's user pool: single sign-on's providers and app client live there.
    const pool = this.ssoPool(props);
    const resources: Record<Target, string[]> = {
      table: [this.table.tableArn],
      gsi1: [`${this.table.tableArn}/index/gsi1`],
      gsi2: [`${this.table.tableArn}/index/gsi2`],
      stream: [this.table.tableStreamArn!],
      any: ["*"],
      eventBus: [
        `arn:${Aws.PARTITION}:events:${Aws.REGION}:${Aws.ACCOUNT_ID}:event-bus/${props.eventBusName ?? "default"}`,
      ],
      deadLetterQueue: [this.eventsDeadLetterQueue.queueArn],
      deliveryDeadLetterQueue: [this.deliveryDeadLetterQueue.queueArn],
      mailFrom: [
        sesArn(`identity/${mailFrom}`),
        sesArn(`identity/${Fn.select(1, Fn.split("@", mailFrom))}`),
        sesArn(`configuration-set/${configurationSet}`),
      ],
      suppressionList: ["*"],
      userPool: [pool.arn],
    };
    const environment: Record<string, string> = {
      ORGS_TABLE_NAME: this.table.tableName,
      ORGS_EVENT_BUS_NAME: props.eventBusName ?? "default",
      ORGS_MAIL_FROM: mailFrom,
      ORGS_SES_CONFIGURATION_SET: configurationSet,
      ORGS_INVITE_URL_BASE: props.inviteUrlBase,
      ORGS_INVITE_REDIRECT_ORIGINS: props.inviteRedirectOrigins ?? "",
      ORGS_INVITATION_TTL_SECONDS: number(props.invitationTtlSeconds, 604800),
      ORGS_MAX_PENDING_INVITATIONS: number(props.maxPendingInvitations, 1000),
      ORGS_MAX_INVITATION_EMAILS_PER_DAY: number(props.maxInvitationEmailsPerDay, 200),
      ORGS_MAX_RESENDS_PER_DAY: number(props.maxResendsPerDay, 5),
      ORGS_MAX_MEMBERS: number(props.maxMembers, 10000),
      ORGS_MAX_ORGS_PER_OWNER: number(props.maxOrgsPerOwner, 10),
      ORGS_MAX_INVITATION_EMAILS_PER_PERSON_PER_DAY: number(props.maxInvitationEmailsPerPersonPerDay, 500),
      ORGS_MAX_INVITATION_EMAILS_NEW_ORG: number(props.maxInvitationEmailsNewOrg, 20),
      ORGS_INVITATION_REPLY_TO_INVITER: String(props.invitationReplyToInviter ?? true),
      ORGS_PRODUCT_NAME: props.productName ?? "orgs",
      ORGS_SIGN_UP_URL: props.signUpUrl ?? "",
      ORGS_CREATE_ORG_ON_SIGN_UP: String(props.createOrgOnSignUp ?? false),
      ORGS_FIRST_ORG_REGION: props.firstOrgRegion ?? "us",
      ORGS_MAX_METADATA_BYTES: number(props.maxMetadataBytes, 8192),
      ORGS_MAX_DOMAINS: number(props.maxDomains, 10),
      ORGS_MAX_ROLES: number(props.maxRoles, 20),
      ORGS_MAX_ROLE_PERMISSIONS: number(props.maxRolePermissions, 100),
      ORGS_MAX_PENDING_JOIN_REQUESTS: number(props.maxPendingJoinRequests, 5000),
      ORGS_MAX_JOIN_REQUESTS_PER_PERSON: number(props.maxJoinRequestsPerPerson, 5),
      ORGS_PUBLIC_EMAIL_DOMAINS: props.publicEmailDomains ?? "",
      ORGS_SERVICE_DOMAINS: props.serviceDomains ?? "",
      ORGS_APP_PERMISSIONS: props.appPermissions ?? "",
      ORGS_DNS_RESOLVER: props.dnsResolver ?? "1.1.1.1:53",
      ORGS_DOMAIN_RECHECK_HOURS: number(props.domainRecheckHours, 24),
      ORGS_DOMAIN_GRACE_HOURS: number(props.domainGraceHours, 72),
      // Single sign-on's user pool and app client; with either empty, single sign-on is off.
      ORGS_USER_POOL_ID: pool.id,
      ORGS_SSO_APP_CLIENT_ID: props.ssoAppClientId ?? "",
      RUST_LOG: props.logLevel ?? "info",
    };
    const streamFed = new Set(ROUTE_TABLE.streamFunctions);
    const extraEnvironment = (name: string): Record<string, string> => {
      if (streamFed.has(name)) return { ORGS_EVENTS_DLQ_URL: this.eventsDeadLetterQueue.queueUrl };
      if (ROUTE_TABLE.cognitoTriggers.includes(name)) return { ORGS_TOKEN_MAX_ORGS: number(props.tokenMaxOrgs, 20) };
      return {};
    };

    const functions: Record<string, lambda.Function> = {};
    for (const name of names) {
      const spec = FUNCTIONS[name];
      const id = pascal(name);
      const code = path.join(props.lambdaDir, name);
      if (!Token.isUnresolved(props.lambdaDir) && !fs.existsSync(path.join(code, "bootstrap"))) {
        throw new Error(`${path.join(code, "bootstrap")} does not exist: run tests/build-artifacts first, or pass the directory that holds <function>/bootstrap as lambdaDir`);
      }
      // Created before the function, so retention applies from the first invocation. Logs go
      // with the stack; the audit trail lives in the table, which is retained.
      const logGroup = new logs.LogGroup(this, `${id}LogGroup`, {
        logGroupName: `/aws/lambda/${Aws.STACK_NAME}/${name}`,
        retention: logs.RetentionDays.ONE_MONTH,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      const managedPolicies = [iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaBasicExecutionRole")];
      if (streamFed.has(name)) {
        // What SAM attaches to a function with a DynamoDB stream event, kept for parity.
        managedPolicies.push(iam.ManagedPolicy.fromAwsManagedPolicyName("service-role/AWSLambdaDynamoDBExecutionRole"));
      }
      const role = new iam.Role(this, `${id}Role`, {
        assumedBy: new iam.ServicePrincipal("lambda.amazonaws.com"),
        managedPolicies,
        // A function that calls no AWS service (beyond its logs) gets no policy of its own.
        inlinePolicies:
          spec.grants.length === 0
            ? undefined
            : {
                Access: new iam.PolicyDocument({
                  statements: spec.grants.map(
                    (grant) =>
                      new iam.PolicyStatement({
                        actions: [...grant.actions],
                        resources: resources[grant.on],
                        conditions: conditions(grant, mailFrom),
                      }),
                  ),
                }),
              },
      });
      for (const policy of managedPolicies) {
        Validations.of(role).acknowledge({
          id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy.managedPolicyArn.split("policy/")[1]}]`,
          reason:
            "The AWS managed policies SAM attaches to the same function (logs; and stream reading for a " +
            "stream-fed function), kept so that both deployments grant the same; everything else is scoped.",
        });
      }
      acknowledgeWildcards(role, spec.grants.map((g) => g.on));

      const fn = new lambda.Function(this, `${id}Function`, {
        description: spec.description,
        runtime: lambda.Runtime.PROVIDED_AL2023,
        architecture: lambda.Architecture.ARM_64,
        handler: "bootstrap",
        code: lambda.Code.fromAsset(code),
        memorySize: spec.memorySize,
        timeout: Duration.seconds(spec.timeout),
        role,
        logGroup,
        environment: { ...environment, ...extraEnvironment(name) },
      });
      // Names the function in the template, as SAM's BuildProperties.Binary does.
      (fn.node.defaultChild as CfnResource).addMetadata("orgs:function", name);
      functions[name] = fn;
      // A throttled request is refused (a 503 through the API) or retried late.
      alarms.addFunctionAlarm(
        `${id}ThrottlesAlarm`,
        fn.functionName,
        "Throttles",
        "Sum",
        1,
        `Lambda throttled ${name} (the account's or region's concurrency is used up).`,
      );
    }
    this.functions = functions;

    // ---------------------------------------------------------------- Events
    // The outbox: the table's stream brings each new event record to the publisher.
    for (const name of ROUTE_TABLE.streamFunctions) {
      // A plain mapping rather than DynamoEventSource: that one grants more (sqs:GetQueue*) than
      // the function's policy above, which is the same as the SAM template's.
      new lambda.CfnEventSourceMapping(this, `${pascal(name)}Stream`, {
        functionName: functions[name].functionName,
        eventSourceArn: this.table.tableStreamArn,
        // From the oldest record the stream holds, so a new stack misses none.
        startingPosition: "TRIM_HORIZON",
        batchSize: 100,
        maximumBatchingWindowInSeconds: 1,
        // One batch per shard at a time: one organization's events stay in commit order.
        parallelizationFactor: 1,
        // The function names the first record it could not publish; Lambda retries from there.
        // A crash or timeout is bisected to find a record that causes it.
        functionResponseTypes: ["ReportBatchItemFailures"],
        bisectBatchOnFunctionError: true,
        // Keep retrying while EventBridge is down; records the stream would soon trim (it keeps
        // 24 hours) go to the dead-letter queue with their shard and sequence numbers.
        maximumRetryAttempts: -1,
        maximumRecordAgeInSeconds: 79200,
        destinationConfig: { onFailure: { destination: this.eventsDeadLetterQueue.queueArn } },
        // Only new event records wake the function; the code checks again.
        filterCriteria: {
          filters: [{ pattern: '{"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["event"]}}}}' }],
        },
      });
      // Ten minutes behind the stream: EventBridge has refused or been unreachable that long.
      alarms.addFunctionAlarm(
        `${pascal(name)}IteratorAgeAlarm`,
        functions[name].functionName,
        "IteratorAge",
        "Maximum",
        600000,
        `${name} is ten minutes or more behind the table's stream.`,
      );
      alarms.addFunctionAlarm(
        `${pascal(name)}ErrorsAlarm`,
        functions[name].functionName,
        "Errors",
        "Sum",
        1,
        `${name} failed (crashed or timed out) on a batch of the table's stream.`,
      );
    }

    // ---------------------------------------------------------------- Schedule
    for (const name of ROUTE_TABLE.scheduledFunctions) {
      new events.Rule(this, `${pascal(name)}Schedule`, {
        description: "Runs the invitation expiry and the domains' re-check.",
        schedule: events.Schedule.expression(props.expiryScheduleRate ?? "rate(1 hour)"),
        targets: [new targets.LambdaFunction(functions[name])],
      });
      alarms.addFunctionAlarm(
        `${pascal(name)}ErrorsAlarm`,
        functions[name].functionName,
        "Errors",
        "Sum",
        1,
        `A run of ${name} failed; the next run carries on where it stopped.`,
      );
    }

    // ---------------------------------------------------------------- SES's delivery events
    const defaultBus = events.EventBus.fromEventBusName(this, "DefaultBus", "default");
    for (const name of ROUTE_TABLE.sesEventFunctions) {
      new events.Rule(this, `${pascal(name)}SesEvents`, {
        eventBus: defaultBus,
        eventPattern: {
          source: ["aws.ses"],
          detail: { mail: { tags: { "ses:configuration-set": [configurationSet] } } },
        },
        // A failed invocation (DynamoDB unavailable) is tried again for up to six hours;
        // recording is idempotent.
        targets: [new targets.LambdaFunction(functions[name], { retryAttempts: 185, maxEventAge: Duration.hours(6) })],
      });
      // A report whose recording still fails after Lambda's two retries goes to the queue, with
      // the event, instead of being dropped. A plain resource: the destination construct would
      // grant more than the function's policy, which is the same as the SAM template's.
      new lambda.CfnEventInvokeConfig(this, `${pascal(name)}EventInvokeConfig`, {
        functionName: functions[name].functionName,
        qualifier: "$LATEST",
        maximumRetryAttempts: 2,
        destinationConfig: { onFailure: { destination: this.deliveryDeadLetterQueue.queueArn } },
      });
      alarms.addFunctionAlarm(
        `${pascal(name)}ErrorsAlarm`,
        functions[name].functionName,
        "Errors",
        "Sum",
        1,
        `${name} failed on a delivery report; Lambda tries twice more, then the report waits in DeliveryDeadLetterQueue.`,
      );
    }

    // ---------------------------------------------------------------- Cognito triggers
    // A pool given is the trigger's: the pool names it, and its own permission admits that pool
    // alone. Otherwise Cognito may invoke it from the named user pool, or without one any pool
    // of this account, and attaching it is the pool's own setting.
    const userPool = props.cognitoUserPoolArn ?? "";
    const postConfirmation = new Set(ROUTE_TABLE.cognitoPostConfirmation);
    for (const name of [...ROUTE_TABLE.cognitoTriggers, ...ROUTE_TABLE.cognitoPostConfirmation]) {
      if (props.userPool) {
        if (postConfirmation.has(name)) {
          props.userPool.addTrigger(cognito.UserPoolOperation.POST_CONFIRMATION, functions[name]);
        } else {
          props.userPool.addTrigger(
            cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
            functions[name],
            cognito.LambdaVersion.V2_0,
          );
        }
        continue;
      }
      let sourceArn: string | undefined = userPool === "" ? undefined : userPool;
      if (isParameter(userPool)) {
        sourceArn = Fn.conditionIf(this.namesUserPool(userPool).logicalId, userPool, Aws.NO_VALUE).toString();
      }
      const permission = new lambda.CfnPermission(this, `${pascal(name)}CognitoPermission`, {
        action: "lambda:InvokeFunction",
        functionName: functions[name].functionArn,
        principal: "cognito-idp.amazonaws.com",
        sourceAccount: Aws.ACCOUNT_ID,
        sourceArn,
      });
      Validations.of(permission).acknowledge({
        id: "CloudFormation-Validate::W1030",
        reason: "The user pool ARN's empty default never becomes the SourceArn: the NamesUserPool condition leaves it out.",
      });
    }

    // ---------------------------------------------------------------- API
    // Every route requires a verified JWT unless the route table marks it public.
    this.httpApi = new apigwv2.HttpApi(this, "HttpApi", {
      description: "orgs HTTP API",
      createDefaultStage: false,
      defaultAuthorizer: new HttpJwtAuthorizer("JwtAuthorizer", props.jwtIssuer, {
        jwtAudience: props.jwtAudience,
        identitySource: ["$request.header.Authorization"],
      }),
    });
    // API Gateway answers preflights itself and adds these headers to answers for the allowed
    // origins; none unless origins are given (the local server applies the same).
    const origins = props.corsAllowedOrigins ?? "";
    const cors = {
      AllowOrigins: Fn.split(",", origins),
      AllowHeaders: ["authorization", "content-type", "idempotency-key"],
      AllowMethods: ["GET", "PATCH", "POST", "PUT", "DELETE"],
      ExposeHeaders: ["location", "retry-after", "apigw-requestid", "idempotent-replayed"],
      MaxAge: 3600,
    };
    if (Token.isUnresolved(origins)) {
      // A parameter: CloudFormation decides, as in the SAM template.
      const allowsBrowsers = new CfnCondition(this, "AllowsBrowsers", {
        expression: Fn.conditionNot(Fn.conditionEquals(origins, "")),
      });
      (this.httpApi.node.defaultChild as apigwv2.CfnApi).addPropertyOverride(
        "CorsConfiguration",
        Fn.conditionIf(allowsBrowsers.logicalId, cors, Aws.NO_VALUE),
      );
    } else if (origins !== "") {
      (this.httpApi.node.defaultChild as apigwv2.CfnApi).addPropertyOverride("CorsConfiguration", cors);
    }
    // Bounds the whole API (the public token lookup included) before any function runs.
    const stage = new apigwv2.HttpStage(this, "DefaultStage", {
      httpApi: this.httpApi,
      stageName: "$default",
      autoDeploy: true,
      throttle: {
        rateLimit: props.apiThrottlingRateLimit ?? 100,
        burstLimit: props.apiThrottlingBurstLimit ?? 200,
      },
    });
    this.apiAccessLog = new logs.LogGroup(this, "ApiAccessLogGroup", {
      logGroupName: `/aws/apigateway/${Aws.STACK_NAME}/access-log`,
      retention: props.accessLogRetentionDays ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    (stage.node.defaultChild as apigwv2.CfnStage).accessLogSettings = {
      destinationArn: this.apiAccessLog.logGroupArn,
      format: ACCESS_LOG_FORMAT,
    };
    for (const route of ROUTE_TABLE.routes) {
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [route.method as apigwv2.HttpMethod],
        integration: new HttpLambdaIntegration(`${pascal(route.function)}Integration`, functions[route.function]),
        authorizer: route.auth === "public" ? new apigwv2.HttpNoneAuthorizer() : undefined,
      });
      if (route.auth === "public") {
        Validations.of(created).acknowledge({
          id: "AwsSolutions-APIG4",
          reason: "Public by design (the route table says so): the token in the body is the credential.",
        });
      }
    }
    alarms.addApi5xxRate("Api5xxRateAlarm", this.httpApi.apiId);
    this.apiUrl = `https://${this.httpApi.apiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}/`;
  }

  private namesUserPoolCondition?: CfnCondition;

  /** Whether the user pool parameter is given: one condition for the triggers and single sign-on. */
  private namesUserPool(arn: string): CfnCondition {
    this.namesUserPoolCondition ??= new CfnCondition(this, "NamesUserPool", {
      expression: Fn.conditionNot(Fn.conditionEquals(arn, "")),
    });
    return this.namesUserPoolCondition;
  }

  /**
   * The user pool single sign-on uses, as `cognitoUserPoolArn` names it: its ARN, which the
   * functions' Cognito permissions name, and its id (`ORGS_USER_POOL_ID`, what follows
   * `userpool/` in the ARN). A parameter that may be empty decides in CloudFormation, as the SAM
   * template does; without a pool, the permissions name a pool ARN no pool of the account has,
   * and the id is empty (single sign-on is off).
   */
  private ssoPool(props: OrgsProps): { arn: string; id: string } {
    const none = `arn:${Aws.PARTITION}:cognito-idp:${Aws.REGION}:${Aws.ACCOUNT_ID}:userpool/none`;
    const arn = props.cognitoUserPoolArn ?? "";
    const pool = props.userPool?.node.defaultChild;
    if (pool && Tokenization.reverseString(arn).tokens.some((t) => t instanceof Reference && t.target === pool)) {
      throw new Error(
        "cognitoUserPoolArn names the pool given as userPool: that pool names the trigger functions, and every " +
          "function would name the pool (a dependency cycle). Pass the ARN of an existing pool as a plain string or a " +
          "parameter, and attach the triggers to it with the pool's own settings (the stack's FunctionArn outputs).",
      );
    }
    if (isParameter(arn)) {
      const given = this.namesUserPool(arn).logicalId;
      return {
        arn: Fn.conditionIf(given, arn, none).toString(),
        id: Fn.conditionIf(given, Fn.select(1, Fn.split("userpool/", arn)), "").toString(),
      };
    }
    if (arn !== "") {
      const id = Token.isUnresolved(arn) ? Fn.select(1, Fn.split("userpool/", arn)) : arn.split("userpool/")[1];
      return { arn, id };
    }
    return { arn: none, id: "" };
  }
}

/**
 * Whether `value` is a stack parameter's value (which may be empty, so that only CloudFormation
 * can tell), rather than a plain string or another resource's attribute.
 */
function isParameter(value: string): boolean {
  if (!Token.isUnresolved(value)) return false;
  const fragments = Tokenization.reverseString(value);
  const token = fragments.firstToken;
  return fragments.length === 1 && token instanceof Reference && token.target instanceof CfnParameter;
}

/**
 * A statement's condition: SendEmail only from MailFrom; a grant limited to partition-key
 * prefixes gets `dynamodb:LeadingKeys`, as the SAM template's generated blocks have it.
 */
function conditions(grant: GrantSpec, mailFrom: string): Record<string, unknown> | undefined {
  if (grant.on === "mailFrom") return { StringEquals: { "ses:FromAddress": mailFrom } };
  if (grant.keys.length > 0) {
    return { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": grant.keys.map((k) => `${k}*`) } };
  }
  return undefined;
}

/**
 * An encrypted queue that keeps what could not be delivered for 14 days, and outlives the
 * stack; `of` says whose failures it holds, `senders` who sends to it.
 */
function deadLetterQueue(scope: Construct, id: string, of: string, senders: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    retentionPeriod: Duration.days(14),
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  Validations.of(queue).acknowledge({ id: "AwsSolutions-SQS3", reason: `This queue is a dead-letter queue: ${of}.` });
  Validations.of(queue).acknowledge({
    id: "AwsSolutions-SQS4",
    reason:
      `${senders}; kept as the SAM template has it. A deny-without-TLS queue policy belongs in both ` +
      "templates at once.",
  });
  return queue;
}

/** The wildcards a function's policy holds, each with the reason it cannot be narrower. */
function acknowledgeWildcards(role: iam.Role, on: Target[]) {
  if (on.includes("any")) {
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason: "dynamodb:ListStreams has no resource-level permissions; the stream itself is named for the rest.",
    });
  }
  if (on.includes("suppressionList")) {
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "ses:GetSuppressedDestination (reading the account's suppression list) supports no resource type; " +
        "SendEmail is scoped to the sender identities and the delivery configuration set.",
    });
  }
}
