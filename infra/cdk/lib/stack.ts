import { CfnOutput, CfnParameter, Stack, StackProps, Validations } from "aws-cdk-lib";
import { Construct } from "constructs";

import { Orgs } from "./orgs";
import { CATALOG, ROUTE_TABLE } from "./routes";

export interface OrgsStackProps extends StackProps {
  /** Directory that holds `<function>/bootstrap` for every function (target/lambda). */
  readonly lambdaDir: string;
}

/**
 * `orgs` as a stack of its own, with the parameters and outputs of infra/template.yaml (same
 * names, types, defaults and constraints), so `cdk deploy --parameters Name=value` takes what
 * `sam deploy --parameter-overrides Name=value` takes.
 */
export class OrgsStack extends Stack {
  readonly orgs: Orgs;

  constructor(scope: Construct, id: string, props: OrgsStackProps) {
    super(scope, id, {
      description:
        "orgs - organizations as a service. One Rust Lambda function per operation behind an API Gateway HTTP API (JWT authorizer), over one DynamoDB table.",
      ...props,
    });
    const parameter = (name: string, options: ConstructorParameters<typeof CfnParameter>[2]) =>
      new CfnParameter(this, name, options);

    const jwtIssuer = parameter("JwtIssuer", {
      type: "String",
      description:
        "OIDC issuer URL whose tokens the HTTP API accepts (e.g. https://cognito-idp.<region>.amazonaws.com/<pool-id>).",
      allowedPattern: "^https://.+",
      constraintDescription: "must be an https URL.",
    });
    const jwtAudience = parameter("JwtAudience", {
      type: "CommaDelimitedList",
      description:
        'Accepted JWT audience(s), comma separated. API Gateway matches a token\'s "aud" claim, or its "client_id" when it has no "aud" (Cognito access tokens), so a Cognito app client id admits both its ID and access tokens.',
    });
    const corsAllowedOrigins = parameter("CorsAllowedOrigins", {
      type: "String",
      default: "",
      description:
        "Origins of the front ends that may call the API from a browser (e.g. https://app.example.com), comma separated without spaces. Empty (the default) allows no browser on another origin.",
    });
    const eventBusName = parameter("EventBusName", {
      type: "String",
      default: "default",
      description: "EventBridge bus that domain events are published to.",
    });
    const mailFrom = parameter("MailFrom", {
      type: "String",
      description: "SES v2 verified sender address for invitation emails.",
      allowedPattern: "^[^@\\s]+@[^@\\s]+$",
      constraintDescription: "must be an email address.",
    });
    const inviteUrlBase = parameter("InviteUrlBase", {
      type: "String",
      description: "Accept-invitation page of the front end; links are {InviteUrlBase}?token={token}.",
      allowedPattern: "^https://.+",
      constraintDescription: "must be an https URL.",
    });
    const productName = parameter("ProductName", {
      type: "String",
      default: "orgs",
      description: "The product's name, as the welcome email to an invitee without an account names it.",
    });
    const signUpUrl = parameter("SignUpUrl", {
      type: "String",
      default: "",
      allowedPattern: "^(https://[^#]+)?$",
      constraintDescription: "must be an https URL without a fragment, or empty.",
      description:
        "Sign-up page of the front end, linked from the welcome email to an invitee without an account as {SignUpUrl}#invitation={accept link}. Empty (the default) links the accept link itself.",
    });
    const createOrgOnSignUp = parameter("CreateOrgOnSignUp", {
      type: "String",
      default: "false",
      allowedValues: ["true", "false"],
      description:
        "Whether a person who signs up gets an organization of their own (the create-first-org Cognito trigger; for other identity providers, their first GET /me).",
    });
    const firstOrgRegion = parameter("FirstOrgRegion", {
      type: "String",
      default: "us",
      allowedValues: ["us", "eu"],
      description: "The region of the organization made at sign-up (CreateOrgOnSignUp).",
    });
    const invitationTtlSeconds = parameter("InvitationTtlSeconds", {
      type: "Number",
      default: 604800,
      minValue: 60,
      description: "How long an invitation stays valid after it is (re)sent. Default seven days.",
    });
    const maxPendingInvitations = parameter("MaxPendingInvitations", {
      type: "Number",
      default: 1000,
      minValue: 1,
      description: "Pending invitations an organization may have at once.",
    });
    const maxInvitationEmailsPerDay = parameter("MaxInvitationEmailsPerDay", {
      type: "Number",
      default: 200,
      minValue: 1,
      description: "Invitation emails (sends and resends) an organization may send per UTC day.",
    });
    const maxResendsPerDay = parameter("MaxResendsPerDay", {
      type: "Number",
      default: 5,
      minValue: 0,
      description: "Times one invitation may be resent per UTC day.",
    });
    const maxMembers = parameter("MaxMembers", {
      type: "Number",
      default: 10000,
      minValue: 1,
      description: "Members plus pending invitations an organization may have (an invitation holds a seat).",
    });
    const maxOrgsPerOwner = parameter("MaxOrgsPerOwner", {
      type: "Number",
      default: 10,
      minValue: 1,
      description:
        "Organizations one person may own at once (those they created or had transferred to them); creating one more is refused.",
    });
    const maxInvitationEmailsPerPersonPerDay = parameter("MaxInvitationEmailsPerPersonPerDay", {
      type: "Number",
      default: 500,
      minValue: 1,
      description:
        "Invitation emails (sends and resends) one person may cause per UTC day, across all their organizations.",
    });
    const maxInvitationEmailsNewOrg = parameter("MaxInvitationEmailsNewOrg", {
      type: "Number",
      default: 20,
      minValue: 1,
      description: "Invitation emails an organization may send in its first 24 hours, on top of its daily limit.",
    });
    const invitationReplyToInviter = parameter("InvitationReplyToInviter", {
      type: "String",
      default: "true",
      allowedValues: ["true", "false"],
      description:
        'Whether invitation emails carry Reply-To the inviter\'s verified address ("false" for none; replies then go to MailFrom).',
    });
    const inviteRedirectOrigins = parameter("InviteRedirectOrigins", {
      type: "String",
      default: "",
      description:
        "Origins (e.g. https://admin.example.com,acme://invite) whose pages an invitation's redirect_url may name, comma separated without spaces. Empty (the default) allows none; links then always open InviteUrlBase.",
    });
    const maxMetadataBytes = parameter("MaxMetadataBytes", {
      type: "Number",
      default: 8192,
      minValue: 2,
      maxValue: 65536,
      description:
        "Bytes of compact JSON in each kind of metadata (public, private) of an organization or a membership.",
    });
    const maxDomains = parameter("MaxDomains", {
      type: "Number",
      default: 10,
      minValue: 1,
      description: "Email domains (verified or not) an organization may add.",
    });
    const maxRoles = parameter("MaxRoles", {
      type: "Number",
      default: 20,
      minValue: 0,
      description: "Custom roles (for members and for teams) an organization may define.",
    });
    const maxRolePermissions = parameter("MaxRolePermissions", {
      type: "Number",
      default: 100,
      minValue: 1,
      description: "Permissions one custom role may grant.",
    });
    const maxPendingJoinRequests = parameter("MaxPendingJoinRequests", {
      type: "Number",
      default: 5000,
      minValue: 1,
      description: "Join requests waiting for an admin in one organization.",
    });
    const maxJoinRequestsPerPerson = parameter("MaxJoinRequestsPerPerson", {
      type: "Number",
      default: 5,
      minValue: 1,
      description: "Join requests one person may have waiting, across organizations.",
    });
    const publicEmailDomains = parameter("PublicEmailDomains", {
      type: "String",
      default: "",
      description:
        "Public email provider domains nobody may claim, comma separated without spaces; they and every name under them are refused. Empty (the default) uses the built-in list (gmail.com, outlook.com, ... see docs/api.md, Verified domains).",
    });
    const serviceDomains = parameter("ServiceDomains", {
      type: "String",
      default: "",
      description:
        "The service's own domains, comma separated without spaces, which no organization may claim (the domain of MailFrom always is one).",
    });
    const appPermissions = parameter("AppPermissions", {
      type: "String",
      default: "",
      description:
        "The application's own permissions, beside the service's, for custom roles and GET /permissions: key=description entries, comma separated (projects:create=Create projects). A key is two or three segments of a-z, 0-9 and _, joined by a colon.",
    });
    const dnsResolver = parameter("DnsResolver", {
      type: "String",
      default: "1.1.1.1:53",
      allowedPattern: "^[0-9a-fA-F.:\\[\\]]+:[0-9]+$",
      constraintDescription: "must be an IP address and port, such as 1.1.1.1:53.",
      description: "The DNS resolver (IP address and port) that domain verification asks for TXT records.",
    });
    const domainRecheckHours = parameter("DomainRecheckHours", {
      type: "Number",
      default: 24,
      minValue: 1,
      description: "How often, in hours, the expiry's schedule looks the TXT record of each verified domain up again.",
    });
    const domainGraceHours = parameter("DomainGraceHours", {
      type: "Number",
      default: 72,
      minValue: 1,
      description:
        "How long, in hours, a verified domain's TXT record may be missing (a definite DNS answer without it) before the domain is unverified, with a DomainUnverified event. A lookup that gets no answer never counts.",
    });
    const expiryScheduleRate = parameter("ExpiryScheduleRate", {
      type: "String",
      default: "rate(1 hour)",
      allowedPattern: "^(rate|cron)\\(.+\\)$",
      constraintDescription: "must be an EventBridge schedule expression, rate(...) or cron(...).",
      description:
        "How often the expiry function marks lapsed invitations expired. The accept path checks deadlines itself, so this only bounds how long a lapsed invitation shows as pending in the table and its event waits.",
    });
    const apiThrottlingRateLimit = parameter("ApiThrottlingRateLimit", {
      type: "Number",
      default: 100,
      minValue: 1,
      description:
        "Steady-state requests per second the HTTP API lets through, for all routes together; more get 429 from API Gateway.",
    });
    const apiThrottlingBurstLimit = parameter("ApiThrottlingBurstLimit", {
      type: "Number",
      default: 200,
      minValue: 1,
      description: "Requests the HTTP API lets through at once above the steady rate.",
    });
    const alarmTopicArn = parameter("AlarmTopicArn", {
      type: "String",
      default: "",
      allowedPattern: "^(arn:[a-z-]+:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_.-]+)?$",
      constraintDescription: "must be an SNS topic ARN, or empty.",
      description:
        "Optional. An existing SNS topic that every alarm notifies (when it fires and when it clears). Empty (the default) and no AlarmEmail - the alarms exist, with no action.",
    });
    const alarmEmail = parameter("AlarmEmail", {
      type: "String",
      default: "",
      allowedPattern: "^([^@\\s]+@[^@\\s]+)?$",
      constraintDescription: "must be an email address, or empty.",
      description:
        "Optional. An address subscribed (it must confirm) to the alarm topic - AlarmTopicArn's, or without one a topic this stack creates. Empty (the default) subscribes nobody.",
    });
    const accessLogRetentionDays = parameter("AccessLogRetentionDays", {
      type: "Number",
      // A string, as AllowedValues are, so that cfn-lint sees the default among them.
      default: "30",
      allowedValues: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653].map(String),
      description: "Days the HTTP API's access log keeps its entries.",
    });
    const logLevel = parameter("LogLevel", {
      type: "String",
      default: "info",
      description: "RUST_LOG filter for every function (e.g. info, or info,orgs_shared=debug).",
    });

    // The Cognito triggers' settings, when the route table has a trigger; the user pool's also
    // when a function's grants name it (single sign-on).
    const triggers = ROUTE_TABLE.cognitoTriggers.length + ROUTE_TABLE.cognitoPostConfirmation.length > 0;
    const grantsOnPool = CATALOG.some((f) => f.grants.some((g) => g.on === "userPool"));
    const cognitoUserPoolArn =
      triggers || grantsOnPool
        ? parameter("CognitoUserPoolArn", {
            type: "String",
            default: "",
            allowedPattern: "^(arn:[a-z-]+:cognito-idp:[a-z0-9-]+:[0-9]{12}:userpool/.+)?$",
            constraintDescription: "must be a Cognito user pool ARN, or empty.",
            description:
              "Optional. The user pool that may invoke the Cognito triggers (token-claims, create-first-org), and the one single sign-on creates the organizations' identity providers in (the functions' Cognito permissions name it alone). Empty (the default) lets any user pool of this account invoke the triggers, and turns single sign-on off.",
          })
        : undefined;
    const ssoAppClientId = parameter("SsoAppClientId", {
      type: "String",
      default: "",
      allowedPattern: "^([\\w+]{1,128})?$",
      constraintDescription: "must be a Cognito app client id, or empty.",
      description:
        "Optional. The app client of CognitoUserPoolArn's pool whose hosted sign-in lists the organizations' identity providers; it must also be among JwtAudience. Empty (the default) turns single sign-on off.",
    });
    if (triggers) {
      // Reported against the stack, for the parameter's default as the If's branch would see it.
      Validations.of(this).acknowledge({
        id: "CloudFormation-Validate::W1030",
        reason: "CognitoUserPoolArn's empty default never becomes a SourceArn: the NamesUserPool condition leaves it out.",
      });
    }
    const tokenMaxOrgs = triggers
      ? parameter("TokenMaxOrgs", {
          type: "Number",
          default: 20,
          minValue: 1,
          maxValue: 40,
          description:
            "The most organizations the token-claims trigger names in one token (the most recently joined); orgs_truncated says when some were left out.",
        })
      : undefined;

    this.orgs = new Orgs(this, "Orgs", {
      cognitoUserPoolArn: cognitoUserPoolArn?.valueAsString,
      ssoAppClientId: ssoAppClientId.valueAsString,
      tokenMaxOrgs: tokenMaxOrgs?.valueAsNumber,
      lambdaDir: props.lambdaDir,
      jwtIssuer: jwtIssuer.valueAsString,
      jwtAudience: jwtAudience.valueAsList,
      corsAllowedOrigins: corsAllowedOrigins.valueAsString,
      eventBusName: eventBusName.valueAsString,
      mailFrom: mailFrom.valueAsString,
      inviteUrlBase: inviteUrlBase.valueAsString,
      inviteRedirectOrigins: inviteRedirectOrigins.valueAsString,
      invitationTtlSeconds: invitationTtlSeconds.valueAsNumber,
      maxPendingInvitations: maxPendingInvitations.valueAsNumber,
      maxInvitationEmailsPerDay: maxInvitationEmailsPerDay.valueAsNumber,
      maxResendsPerDay: maxResendsPerDay.valueAsNumber,
      maxMembers: maxMembers.valueAsNumber,
      maxOrgsPerOwner: maxOrgsPerOwner.valueAsNumber,
      maxInvitationEmailsPerPersonPerDay: maxInvitationEmailsPerPersonPerDay.valueAsNumber,
      maxInvitationEmailsNewOrg: maxInvitationEmailsNewOrg.valueAsNumber,
      invitationReplyToInviter: invitationReplyToInviter.valueAsString,
      productName: productName.valueAsString,
      signUpUrl: signUpUrl.valueAsString,
      createOrgOnSignUp: createOrgOnSignUp.valueAsString,
      firstOrgRegion: firstOrgRegion.valueAsString,
      maxMetadataBytes: maxMetadataBytes.valueAsNumber,
      maxDomains: maxDomains.valueAsNumber,
      maxRoles: maxRoles.valueAsNumber,
      maxRolePermissions: maxRolePermissions.valueAsNumber,
      maxPendingJoinRequests: maxPendingJoinRequests.valueAsNumber,
      maxJoinRequestsPerPerson: maxJoinRequestsPerPerson.valueAsNumber,
      publicEmailDomains: publicEmailDomains.valueAsString,
      serviceDomains: serviceDomains.valueAsString,
      appPermissions: appPermissions.valueAsString,
      dnsResolver: dnsResolver.valueAsString,
      domainRecheckHours: domainRecheckHours.valueAsNumber,
      domainGraceHours: domainGraceHours.valueAsNumber,
      expiryScheduleRate: expiryScheduleRate.valueAsString,
      apiThrottlingRateLimit: apiThrottlingRateLimit.valueAsNumber,
      apiThrottlingBurstLimit: apiThrottlingBurstLimit.valueAsNumber,
      logLevel: logLevel.valueAsString,
      alarmTopicArn: alarmTopicArn.valueAsString,
      alarmEmail: alarmEmail.valueAsString,
      accessLogRetentionDays: accessLogRetentionDays.valueAsNumber,
    });

    new CfnOutput(this, "ApiUrl", {
      description: "Invoke URL of the HTTP API ($default stage).",
      value: this.orgs.apiUrl,
    });
    new CfnOutput(this, "TableName", {
      description: "The single DynamoDB table.",
      value: this.orgs.table.tableName,
    });
    new CfnOutput(this, "TableStreamArn", {
      description: "Stream of the table (carries the event outbox).",
      value: this.orgs.table.tableStreamArn!,
    });
    new CfnOutput(this, "EventsDeadLetterQueueUrl", {
      description: "Event records that could not be published (see docs/operations.md, Dead-letter queue).",
      value: this.orgs.eventsDeadLetterQueue.queueUrl,
    });
    new CfnOutput(this, "DeliveryDeadLetterQueueUrl", {
      description: "SES delivery reports that could not be recorded (see docs/operations.md, Delivery reports).",
      value: this.orgs.deliveryDeadLetterQueue.queueUrl,
    });
    for (const name of ROUTE_TABLE.cognitoTriggers) {
      new CfnOutput(this, `${name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}FunctionArn`, {
        description: `The ${name} function, for a user pool's LambdaConfig.PreTokenGenerationConfig (LambdaVersion V2_0).`,
        value: this.orgs.functions[name].functionArn,
      });
    }
    for (const name of ROUTE_TABLE.cognitoPostConfirmation) {
      new CfnOutput(this, `${name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase())}FunctionArn`, {
        description: `The ${name} function, for a user pool's LambdaConfig.PostConfirmation.`,
        value: this.orgs.functions[name].functionArn,
      });
    }
  }
}
