import { Aws, CfnCondition, Fn, Token, Validations } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as sns from "aws-cdk-lib/aws-sns";
import { Construct } from "constructs";

/**
 * One JSON line per request of the HTTP API, the refused ones (401, 429) included. No header,
 * query string or body: tokens travel in the Authorization header and the request body.
 */
export const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: "$context.requestId",
  requestTime: "$context.requestTime",
  ip: "$context.identity.sourceIp",
  httpMethod: "$context.httpMethod",
  path: "$context.path",
  routeKey: "$context.routeKey",
  status: "$context.status",
  protocol: "$context.protocol",
  responseLength: "$context.responseLength",
  responseLatency: "$context.responseLatency",
  integrationLatency: "$context.integrationLatency",
  integrationStatus: "$context.integrationStatus",
  integrationErrorMessage: "$context.integrationErrorMessage",
  authorizerError: "$context.authorizer.error",
});

type AlarmProps = Omit<cloudwatch.CfnAlarmProps, "alarmActions" | "okActions" | "treatMissingData">;

/**
 * The alarm topic and the alarms, as the SAM template's Operations section has them. Every alarm
 * exists whether or not a topic is given; with `alarmTopicArn` or `alarmEmail` each notifies the
 * topic when it fires and when it clears.
 */
export class Alarms extends Construct {
  /** The topic the alarms notify, when there is one (a token when it depends on parameters). */
  readonly topicArn?: string;
  private readonly actions?: string[];

  constructor(scope: Construct, id: string, props: { alarmTopicArn?: string; alarmEmail?: string }) {
    super(scope, id);
    const given = props.alarmTopicArn ?? "";
    const email = props.alarmEmail ?? "";
    const subscribe = (topicArn: string) =>
      new sns.CfnSubscription(this, "AlarmEmailSubscription", { protocol: "email", endpoint: email, topicArn });

    if (Token.isUnresolved(given) || Token.isUnresolved(email)) {
      // Parameters: CloudFormation decides, with the SAM template's conditions written out.
      const givenTopic = Fn.conditionNot(Fn.conditionEquals(given, ""));
      const anEmail = Fn.conditionNot(Fn.conditionEquals(email, ""));
      const condition = (name: string, expression: ReturnType<typeof Fn.conditionNot>) =>
        new CfnCondition(this, name, { expression });
      const namesTopic = condition("NamesAlarmTopic", givenTopic);
      const createsTopic = condition("CreatesAlarmTopic", Fn.conditionAnd(Fn.conditionEquals(given, ""), anEmail));
      const subscribes = condition("SubscribesAlarmEmail", anEmail);
      const notifies = condition("NotifiesAlarms", Fn.conditionOr(givenTopic, anEmail));
      const topic = this.topic();
      topic.cfnOptions.condition = createsTopic;
      this.topicArn = Fn.conditionIf(namesTopic.logicalId, given, topic.ref).toString();
      subscribe(this.topicArn).cfnOptions.condition = subscribes;
      this.actions = Token.asList(Fn.conditionIf(notifies.logicalId, [this.topicArn], Aws.NO_VALUE));
    } else if (given !== "" || email !== "") {
      this.topicArn = given !== "" ? given : this.topic().ref;
      if (email !== "") subscribe(this.topicArn);
      this.actions = [this.topicArn];
    }
  }

  /**
   * Unencrypted: CloudWatch cannot publish to a topic under the AWS managed SNS key, and alarm
   * messages carry alarm names and metric values only.
   */
  private topic(): sns.CfnTopic {
    const topic = new sns.CfnTopic(this, "AlarmTopic", { displayName: "orgs alarms" });
    Validations.of(topic).acknowledge({
      id: "AwsSolutions-SNS2",
      reason:
        "CloudWatch alarms cannot publish to a topic encrypted with the AWS managed key, and alarm " +
        "messages hold alarm names and metric values only; kept as the SAM template has it.",
    });
    Validations.of(topic).acknowledge({
      id: "AwsSolutions-SNS3",
      reason:
        "Only this account's CloudWatch alarms publish to it, over AWS's own TLS; kept as the SAM " +
        "template has it. A deny-without-TLS topic policy belongs in both templates at once.",
    });
    return topic;
  }

  /** An alarm that notifies the topic; missing data is not breaching. */
  add(id: string, props: AlarmProps): cloudwatch.CfnAlarm {
    return new cloudwatch.CfnAlarm(this, id, {
      ...props,
      treatMissingData: "notBreaching",
      alarmActions: this.actions,
      okActions: this.actions,
    });
  }

  /** An alarm on a metric of one Lambda function, at or above `threshold`. */
  addFunctionAlarm(
    id: string,
    functionName: string,
    metricName: string,
    statistic: string,
    threshold: number,
    alarmDescription: string,
  ): cloudwatch.CfnAlarm {
    return this.add(id, {
      alarmDescription,
      namespace: "AWS/Lambda",
      metricName,
      dimensions: [{ name: "FunctionName", value: functionName }],
      statistic,
      period: 300,
      evaluationPeriods: 1,
      threshold,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  }

  /**
   * 5% of requests answered 5xx in each of two consecutive 5 minutes, counted only from 20
   * requests in 5 minutes, so that one failure among a handful is no page.
   */
  addApi5xxRate(id: string, apiId: string): cloudwatch.CfnAlarm {
    const stat = (metricName: string) => ({
      metric: { namespace: "AWS/ApiGateway", metricName, dimensions: [{ name: "ApiId", value: apiId }] },
      period: 300,
      stat: "Sum",
    });
    return this.add(id, {
      alarmDescription: "5% or more of the HTTP API's requests were answered 5xx for ten minutes.",
      metrics: [
        {
          id: "rate",
          label: "5xx answers (% of requests)",
          expression: "IF(requests >= 20, 100 * errors / requests, 0)",
          returnData: true,
        },
        { id: "errors", metricStat: stat("5xx"), returnData: false },
        { id: "requests", metricStat: stat("Count"), returnData: false },
      ],
      evaluationPeriods: 2,
      threshold: 5,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
    });
  }

  /**
   * SES puts an account under review at a 5% bounce rate or a 0.1% complaint rate (and may pause
   * its sending at 10% and 0.5%); these fire at the review levels. Account-wide metrics.
   */
  addSesReputation(): void {
    for (const [id, metricName, threshold, description] of [
      ["SesBounceRateAlarm", "Reputation.BounceRate", 0.05, "bounce rate reached 5%"],
      ["SesComplaintRateAlarm", "Reputation.ComplaintRate", 0.001, "complaint rate reached 0.1%"],
    ] as const) {
      this.add(id, {
        alarmDescription: `The account's SES ${description}, where SES puts an account under review.`,
        namespace: "AWS/SES",
        metricName,
        statistic: "Maximum",
        period: 3600,
        evaluationPeriods: 1,
        threshold,
        comparisonOperator: "GreaterThanOrEqualToThreshold",
      });
    }
  }
}
