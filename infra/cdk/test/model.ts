// What a deployment of orgs is, read out of a CloudFormation template, so that the SAM template
// (expanded by the SAM translator) and the CDK app's template can be compared: logical ids are
// replaced by what the resource is (`Table`, `Function:get-me`, ...), references and ARNs are
// rendered as strings (`${Table.Arn}/index/gsi1`), and the parts the two tools write
// differently but mean the same by (Fn::Sub or Fn::Join, an OpenAPI body or Route resources,
// a managed policy ARN with or without ${AWS::Partition}) are brought to one form.

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export interface Template {
  Parameters?: Record<string, Json>;
  Conditions?: Record<string, Json>;
  Resources: Record<
    string,
    { Type: string; Properties?: Json; Metadata?: Json; DeletionPolicy?: string; UpdateReplacePolicy?: string; Condition?: string }
  >;
  Outputs?: Record<string, Json>;
}

export interface FunctionModel {
  runtime: string;
  architectures: string[];
  handler: string;
  memorySize: number;
  timeout: number;
  environment: Record<string, string>;
  logGroup: Json;
  managedPolicies: string[];
  /** One line per (effect, action, resource, condition). */
  permissions: string[];
  /** Who may invoke it: `apigateway.amazonaws.com`, `events.amazonaws.com`, ... */
  invokedBy: string[];
}

export interface Model {
  parameters: Record<string, Json>;
  outputs: Record<string, Json>;
  functions: Record<string, FunctionModel>;
  /** `GET /me` -> `get-me JWT 2.0`. */
  routes: Record<string, string>;
  authorizer: Json;
  cors: Json;
  stage: Json;
  /** The log group of the API's access log. */
  accessLog: Json;
  table: Json;
  /** Each queue, by what sends to it. */
  queues: Record<string, Json>;
  alarms: Json[];
  /** The alarm topic and its email subscription, each with the condition it is created on. */
  alarmTopic: Json[];
  eventSourceMappings: Json[];
  schedules: Json[];
  /** The SES configuration set, its event destination, and the rules that feed its events. */
  delivery: Json;
  /** Resource types that no part of the model accounts for, with their counts. */
  unaccounted: Record<string, number>;
}

const ofType = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

function only(t: Template, type: string): [string, Template["Resources"][string]] {
  const found = ofType(t, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
}

const sorted = <T>(values: T[]) => [...values].sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));

export function model(t: Template): Model {
  // ---- What each logical id is.
  const names: Record<string, string> = {};
  const functionOf: Record<string, string> = {};
  for (const [id, r] of ofType(t, "AWS::Lambda::Function")) {
    const name = r.Metadata?.["orgs:function"] ?? r.Metadata?.BuildProperties?.Binary;
    if (!name) throw new Error(`${id}: no function name in its Metadata`);
    names[id] = `Function:${name}`;
    functionOf[id] = name;
    names[r.Properties.Role["Fn::GetAtt"][0]] = `Role:${name}`;
    const logGroup = r.Properties.LoggingConfig?.LogGroup?.Ref;
    if (logGroup) names[logGroup] = `LogGroup:${name}`;
  }
  names[only(t, "AWS::DynamoDB::Table")[0]] = "Table";
  // The queues, by what sends to them: the stream mapping's failures, and an async function's.
  const queueOf = (destination: Json) => destination?.["Fn::GetAtt"]?.[0];
  for (const [, r] of ofType(t, "AWS::Lambda::EventSourceMapping")) {
    names[queueOf(r.Properties.DestinationConfig?.OnFailure?.Destination)] = "EventsDeadLetterQueue";
  }
  for (const [, r] of ofType(t, "AWS::Lambda::EventInvokeConfig")) {
    names[queueOf(r.Properties.DestinationConfig?.OnFailure?.Destination)] = "DeliveryDeadLetterQueue";
  }
  names[only(t, "AWS::ApiGatewayV2::Api")[0]] = "HttpApi";
  for (const [id] of ofType(t, "AWS::SNS::Topic")) names[id] = "AlarmTopic";
  const accessLogId = only(t, "AWS::ApiGatewayV2::Stage")[1].Properties.AccessLogSettings?.DestinationArn?.["Fn::GetAtt"]?.[0];
  if (accessLogId) names[accessLogId] = "ApiAccessLogGroup";
  names[only(t, "AWS::SES::ConfigurationSet")[0]] = "DeliveryConfigurationSet";
  const canonical = (id: string) => names[id] ?? id;
  for (const [id, r] of ofType(t, "AWS::Events::Rule")) {
    names[id] = `Rule:${r.Properties.Targets.map((x: Json) => render(x.Arn)).join(",")}`;
  }

  // ---- Values as strings, whatever intrinsic wrote them.
  function render(v: Json): Json {
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (Array.isArray(v)) return v.map(render);
    if (v === null || typeof v !== "object") return v;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const [k] = keys;
      const a = v[k];
      switch (k) {
        case "Ref":
          return `\${${canonical(a)}}`;
        case "Fn::GetAtt": {
          const [id, attr] = typeof a === "string" ? a.split(".") : a;
          return `\${${canonical(id)}.${attr}}`;
        }
        case "Fn::Join":
          return Array.isArray(a[1]) ? a[1].map(render).join(a[0]) : `join(${a[0]},${render(a[1])})`;
        case "Fn::Sub": {
          const [text, vars] = typeof a === "string" ? [a, {}] : a;
          return text.replace(/\$\{([^}!]+)\}/g, (_: string, ref: string) => {
            if (ref in vars) return render(vars[ref]);
            const [id, attr] = ref.split(".");
            return attr ? `\${${canonical(id)}.${attr}}` : `\${${canonical(id)}}`;
          });
        }
        case "Fn::Select":
          return `select(${render(a[0])},${render(a[1])})`;
        case "Fn::Split":
          return `split(${a[0]},${render(a[1])})`;
        case "Fn::If":
          return { if: render(t.Conditions?.[a[0]]), then: render(a[1]), else: render(a[2]) };
        case "Fn::Not":
        case "Fn::Equals":
          return { [k]: render(a) };
      }
    }
    return Object.fromEntries(keys.map((key) => [key, render(v[key])]));
  }

  // ---- Functions, with everything their roles allow.
  const statementsOf: Record<string, Json[]> = {};
  for (const [id, r] of ofType(t, "AWS::IAM::Role")) {
    statementsOf[id] = (r.Properties.Policies ?? []).flatMap((p: Json) => p.PolicyDocument.Statement);
  }
  for (const [, r] of ofType(t, "AWS::IAM::Policy")) {
    for (const role of r.Properties.Roles) statementsOf[role.Ref].push(...r.Properties.PolicyDocument.Statement);
  }
  const invokers: Record<string, Set<string>> = {};
  for (const [, r] of ofType(t, "AWS::Lambda::Permission")) {
    const target = render(r.Properties.FunctionName).replace(/^\$\{Function:([^.}]+).*$/, "$1");
    // API Gateway's source ARNs differ in form between the tools (SAM names each route's method
    // and path, CDK each path); any other invoker's source must be the same.
    const { SourceArn, SourceAccount } = r.Properties;
    const source = r.Properties.Principal === "apigateway.amazonaws.com" ? "" : ` from ${JSON.stringify(render({ SourceArn, SourceAccount }))}`;
    (invokers[target] ??= new Set()).add(`${r.Properties.Action} by ${r.Properties.Principal}${source}`);
  }
  const functions: Record<string, FunctionModel> = {};
  for (const [id, r] of ofType(t, "AWS::Lambda::Function")) {
    const p = r.Properties;
    const roleId = p.Role["Fn::GetAtt"][0];
    const role = t.Resources[roleId].Properties;
    const permissions = new Set<string>();
    for (const s of statementsOf[roleId]) {
      for (const action of [s.Action].flat()) {
        for (const resource of [s.Resource].flat()) {
          // A resource that is a condition's choice (the user pool's) renders as an object.
          const on = render(resource);
          const text = typeof on === "string" ? on : JSON.stringify(on);
          permissions.add(`${s.Effect} ${action} on ${text}${s.Condition ? ` if ${JSON.stringify(render(s.Condition))}` : ""}`);
        }
      }
    }
    const logGroup = t.Resources[p.LoggingConfig.LogGroup.Ref];
    functions[functionOf[id]] = {
      runtime: p.Runtime,
      architectures: p.Architectures,
      handler: p.Handler,
      memorySize: p.MemorySize,
      timeout: p.Timeout,
      environment: render(p.Environment?.Variables ?? {}),
      logGroup: { ...render(logGroup.Properties), DeletionPolicy: logGroup.DeletionPolicy },
      managedPolicies: (role.ManagedPolicyArns ?? []).map((arn: Json) => render(arn).replace(/^.*:policy\//, "")).sort(),
      permissions: [...permissions].sort(),
      invokedBy: [...(invokers[functionOf[id]] ?? [])].sort(),
    };
  }
  const fnOfArn = (v: Json) => {
    const s = render(v);
    const m = /\$\{Function:([^.}]+)\.Arn\}/.exec(s) ?? /^\$\{Function:([^.}]+)\}$/.exec(s);
    if (!m) throw new Error(`not a function: ${s}`);
    return m[1];
  };

  // ---- The HTTP API: SAM writes an OpenAPI body, CDK Route and Integration resources.
  const [, api] = only(t, "AWS::ApiGatewayV2::Api");
  const routes: Record<string, string> = {};
  let authorizer: Json;
  let cors: Json;
  if (api.Properties.Body) {
    const body = api.Properties.Body;
    for (const [path, item] of Object.entries<Json>(body.paths)) {
      for (const [method, op] of Object.entries<Json>(item)) {
        const integration = op["x-amazon-apigateway-integration"];
        const auth = Object.keys(op.security?.[0] ?? {})[0] === "NONE" ? "NONE" : "JWT";
        routes[`${method.toUpperCase()} ${path}`] = `${fnOfArn(integration.uri)} ${auth} ${integration.payloadFormatVersion}`;
      }
    }
    const schemes = Object.values<Json>(body.components.securitySchemes);
    if (schemes.length !== 1) throw new Error("expected one authorizer");
    const jwt = schemes[0]["x-amazon-apigateway-authorizer"];
    authorizer = render({
      type: jwt.type.toUpperCase(),
      identitySource: [jwt.identitySource].flat(),
      issuer: jwt.jwtConfiguration.issuer,
      audience: jwt.jwtConfiguration.audience,
    });
    cors = render(body["x-amazon-apigateway-cors"] ?? null);
  } else {
    for (const [, r] of ofType(t, "AWS::ApiGatewayV2::Route")) {
      const integrationId = r.Properties.Target["Fn::Join"][1][1].Ref;
      const integration = t.Resources[integrationId].Properties;
      routes[r.Properties.RouteKey] = `${fnOfArn(integration.IntegrationUri)} ${r.Properties.AuthorizationType ?? "NONE"} ${integration.PayloadFormatVersion}`;
    }
    const [, jwt] = only(t, "AWS::ApiGatewayV2::Authorizer");
    authorizer = render({
      type: jwt.Properties.AuthorizerType,
      identitySource: jwt.Properties.IdentitySource,
      issuer: jwt.Properties.JwtConfiguration.Issuer,
      audience: jwt.Properties.JwtConfiguration.Audience,
    });
    cors = render(api.Properties.CorsConfiguration ?? null);
  }
  const [, stage] = only(t, "AWS::ApiGatewayV2::Stage");

  // ---- The rest, whole, with references rendered.
  const [, table] = only(t, "AWS::DynamoDB::Table");
  const retained = (r: Json) => ({ DeletionPolicy: r.DeletionPolicy, UpdateReplacePolicy: r.UpdateReplacePolicy });
  const tableProps = { ...table.Properties };
  tableProps.AttributeDefinitions = sorted(tableProps.AttributeDefinitions);
  tableProps.GlobalSecondaryIndexes = sorted(tableProps.GlobalSecondaryIndexes ?? []);

  const parameters = Object.fromEntries(
    Object.entries(t.Parameters ?? {})
      // CDK's check that the account is bootstrapped, not a setting of orgs.
      .filter(([name]) => name !== "BootstrapVersion")
      .map(([name, p]) => [name, render(p)]),
  );

  const accounted = new Set([
    "AWS::Lambda::Function", "AWS::IAM::Role", "AWS::IAM::Policy", "AWS::Logs::LogGroup", "AWS::Lambda::Permission",
    "AWS::ApiGatewayV2::Api", "AWS::ApiGatewayV2::Route", "AWS::ApiGatewayV2::Integration", "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Stage", "AWS::DynamoDB::Table", "AWS::SQS::Queue", "AWS::CloudWatch::Alarm",
    "AWS::Lambda::EventSourceMapping", "AWS::Events::Rule", "AWS::SNS::Topic", "AWS::SNS::Subscription",
    "AWS::SES::ConfigurationSet", "AWS::SES::ConfigurationSetEventDestination", "AWS::Lambda::EventInvokeConfig",
    // CDK's version reporting; no part of the service.
    "AWS::CDK::Metadata",
  ]);
  const unaccounted: Record<string, number> = {};
  for (const r of Object.values(t.Resources)) {
    if (!accounted.has(r.Type)) unaccounted[r.Type] = (unaccounted[r.Type] ?? 0) + 1;
  }

  return {
    parameters,
    outputs: Object.fromEntries(Object.entries(t.Outputs ?? {}).map(([name, o]) => [name, render(o)])),
    functions,
    routes,
    authorizer,
    cors,
    stage: render({
      StageName: stage.Properties.StageName,
      AutoDeploy: stage.Properties.AutoDeploy,
      DefaultRouteSettings: stage.Properties.DefaultRouteSettings,
      AccessLogSettings: stage.Properties.AccessLogSettings,
    }),
    accessLog: accessLogId
      ? { ...render(t.Resources[accessLogId].Properties), ...retained(t.Resources[accessLogId]) }
      : null,
    table: { ...render(tableProps), ...retained(table) },
    queues: Object.fromEntries(
      ofType(t, "AWS::SQS::Queue").map(([id, r]) => [canonical(id), { ...render(r.Properties), ...retained(r) }]),
    ),
    alarms: sorted(ofType(t, "AWS::CloudWatch::Alarm").map(([, r]) => render(r.Properties))),
    alarmTopic: sorted(
      [...ofType(t, "AWS::SNS::Topic"), ...ofType(t, "AWS::SNS::Subscription")].map(([, r]) => ({
        Type: r.Type,
        Condition: r.Condition ? render(t.Conditions?.[r.Condition]) : null,
        Properties: render(r.Properties),
      })),
    ),
    eventSourceMappings: sorted(ofType(t, "AWS::Lambda::EventSourceMapping").map(([, r]) => render(r.Properties))),
    schedules: sorted(
      ofType(t, "AWS::Events::Rule").filter(([, r]) => !r.Properties.EventPattern).map(([, r]) => ({
        ScheduleExpression: render(r.Properties.ScheduleExpression),
        Description: r.Properties.Description,
        State: r.Properties.State ?? "ENABLED",
        Targets: r.Properties.Targets.map((x: Json) => fnOfArn(x.Arn)),
      })),
    ),
    delivery: {
      configurationSet: render(only(t, "AWS::SES::ConfigurationSet")[1].Properties),
      eventDestination: render(only(t, "AWS::SES::ConfigurationSetEventDestination")[1].Properties),
      rules: sorted(
        ofType(t, "AWS::Events::Rule")
          .filter(([, r]) => r.Properties.EventPattern)
          .map(([, r]) => ({
            EventBusName: render(r.Properties.EventBusName),
            EventPattern: render(r.Properties.EventPattern),
            State: r.Properties.State ?? "ENABLED",
            Targets: r.Properties.Targets.map((x: Json) => ({ function: fnOfArn(x.Arn), RetryPolicy: render(x.RetryPolicy) })),
          })),
      ),
      // What happens to an invocation that fails: retries, then the on-failure destination.
      invokeConfigs: sorted(
        ofType(t, "AWS::Lambda::EventInvokeConfig").map(([, r]) => {
          const { FunctionName, ...rest } = r.Properties;
          return { function: fnOfArn(FunctionName), ...render(rest) };
        }),
      ),
    },
    unaccounted,
  };
}
