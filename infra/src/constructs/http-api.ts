import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api/index.js';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer/index.js';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration/index.js';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route/index.js';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage/index.js';
import { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import type { SystemRoute } from '@lambda-efs/function-spec';
import { Construct } from 'constructs';

import type { ApiConfig } from '../config.js';
import { InfraError } from '../errors.js';
import type { PolicyDocument } from '../iam.js';
import { apiRoutes, invokeResourcePath } from '../route-authorization.js';
import type { DeployedFunction } from './functions.js';

export interface HttpApiProps {
  readonly namePrefix: string;
  readonly config: ApiConfig;
  /** Every route of the system with the function serving it (`defineSystem(...).routes`). */
  readonly routes: readonly SystemRoute[];
  /** By declared function name. */
  readonly functions: ReadonlyMap<string, DeployedFunction>;
}

/** API Gateway's integration timeout, which a longer function timeout does not extend. */
const INTEGRATION_TIMEOUT_MS = 30_000;

/**
 * The fields of each JSON access log line. `$context.*` variables of HTTP APIs; one object per
 * request, so CloudWatch Logs Insights can query fields directly.
 */
export const ACCESS_LOG_FORMAT = Object.freeze({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  httpMethod: '$context.httpMethod',
  path: '$context.path',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integrationStatus',
  integrationLatency: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
});

/**
 * A construct id (and so a Terraform name) for a route key:
 * `'ANY /message-wall/{wall}'` → `'route-ANY-message-wall-wall'`, `'$default'` → `'route-default'`.
 */
export function routeId(routeKey: string): string {
  if (routeKey === '$default') return 'route-default';
  const [method = '', path = ''] = routeKey.split(' ');
  const parts = path
    .split('/')
    .filter((segment) => segment !== '')
    .map((segment) =>
      segment
        .replace(/^\{(.+)\+\}$/, '$1-greedy')
        .replace(/[{}]/g, '')
        .replace(/[^A-Za-z0-9_-]/g, '_'),
    );
  return ['route', method, ...(parts.length === 0 ? ['root'] : parts)].join('-');
}

/**
 * The HTTP API: one Lambda proxy integration (payload 2.0) and invoke permission per routed
 * function (none for a function without routes),
 * one route per declared route key (open, IAM or JWT per configuration), one more for the DELETE
 * of each declared `ANY` route (`DELETE /message-wall`, `api.deleteAuthorization`) and each method
 * of one that `api.routeAuthorization` names, the `$default` stage, auto-deployed,
 * throttled, with JSON access logs, and, when a route needs IAM, a managed policy that may call
 * exactly those routes (for the deploy role and operators to attach).
 */
export class HttpApi extends Construct {
  readonly api: Apigatewayv2Api;
  readonly stage: Apigatewayv2Stage;
  readonly accessLogGroup: CloudwatchLogGroup;
  /** The route keys that need SigV4-signed requests (`AWS_IAM`), in creation order. */
  readonly iamRouteKeys: readonly string[];
  /** `execute-api:Invoke` on exactly {@link iamRouteKeys}; `null` when no route needs IAM. */
  readonly protectedRoutesPolicy: IamPolicy | null;

  constructor(scope: Construct, id: string, props: HttpApiProps) {
    super(scope, id);
    const { config, namePrefix } = props;
    const apiName = `${namePrefix}-http-api`;

    this.api = new Apigatewayv2Api(this, 'api', {
      name: apiName,
      protocolType: 'HTTP',
      description: 'Lambda functions sharing one EFS file system',
      tags: { Name: apiName },
    });

    const authorizers = new Map(
      Object.entries(config.jwtAuthorizers).map(([name, authorizer]) => [
        name,
        new Apigatewayv2Authorizer(this, `authorizer-${name}`, {
          apiId: this.api.id,
          name,
          authorizerType: 'JWT',
          identitySources: ['$request.header.Authorization'],
          jwtConfiguration: { issuer: authorizer.issuer, audience: [...authorizer.audience] },
        }),
      ]),
    );

    const integrations = new Map<string, Apigatewayv2Integration>();
    for (const [name, fn] of props.functions) {
      // A function with no routes (the provisioner) is never reachable from the API.
      if (fn.definition.routes.length === 0) continue;
      integrations.set(
        name,
        new Apigatewayv2Integration(this, `integration-${name}`, {
          apiId: this.api.id,
          integrationType: 'AWS_PROXY',
          integrationMethod: 'POST',
          integrationUri: fn.invokeArn,
          payloadFormatVersion: '2.0',
          timeoutMilliseconds: INTEGRATION_TIMEOUT_MS,
          description: `Function ${fn.functionName}${fn.qualifier === null ? '' : ` (alias ${fn.qualifier})`}`,
        }),
      );
      new LambdaPermission(this, `permission-${name}`, {
        statementId: 'AllowHttpApiInvoke',
        action: 'lambda:InvokeFunction',
        functionName: fn.lambda.functionName,
        principal: 'apigateway.amazonaws.com',
        // Any stage, any route of this API. A narrower "/*/*/*" form has given 500s.
        sourceArn: `${this.api.executionArn}/*/*`,
        ...(fn.qualifier === null ? {} : { qualifier: fn.qualifier }),
      });
    }

    // The declared routes, then the DELETE (and configured methods) of the ANY routes, served by
    // the same function: API Gateway prefers a method's own route to ANY.
    const ids = new Set<string>();
    const iamRouteKeys: string[] = [];
    for (const route of apiRoutes(props.routes, config)) {
      const integration = integrations.get(route.functionName);
      if (integration === undefined) {
        throw new InfraError('EINFRACONFIG', `Route "${route.routeKey}" names function "${route.functionName}", which is not deployed.`);
      }
      let id = routeId(route.routeKey);
      for (let suffix = 2; ids.has(id); suffix += 1) id = `${routeId(route.routeKey)}-${suffix}`;
      ids.add(id);
      const { authorization } = route;
      if (authorization.type === 'AWS_IAM') iamRouteKeys.push(route.routeKey);
      const authorizer = authorization.type === 'JWT' ? authorizers.get(authorization.authorizer) : undefined;
      if (authorization.type === 'JWT' && authorizer === undefined) {
        throw new InfraError(
          'EINFRACONFIG',
          `Route "${route.routeKey}" uses JWT authorizer "${authorization.authorizer}", which api.jwtAuthorizers does not define.`,
        );
      }
      new Apigatewayv2Route(this, id, {
        apiId: this.api.id,
        routeKey: route.routeKey,
        target: `integrations/${integration.id}`,
        authorizationType: authorization.type,
        ...(authorizer === undefined ? {} : { authorizerId: authorizer.id }),
        ...(authorization.type === 'JWT' && authorization.scopes.length > 0 ? { authorizationScopes: [...authorization.scopes] } : {}),
      });
    }

    this.accessLogGroup = new CloudwatchLogGroup(this, 'access-log-group', {
      name: `/aws/apigateway/${apiName}`,
      retentionInDays: config.accessLogRetentionDays,
      tags: { Name: `${apiName}-access-logs` },
    });
    this.stage = new Apigatewayv2Stage(this, 'stage', {
      apiId: this.api.id,
      name: '$default',
      autoDeploy: true,
      defaultRouteSettings: {
        throttlingBurstLimit: config.throttling.burstLimit,
        throttlingRateLimit: config.throttling.rateLimit,
        detailedMetricsEnabled: true,
      },
      accessLogSettings: {
        destinationArn: this.accessLogGroup.arn,
        format: JSON.stringify(ACCESS_LOG_FORMAT),
      },
      tags: { Name: `${apiName}-default` },
    });

    this.iamRouteKeys = iamRouteKeys;
    // Who may call the IAM routes is up to IAM: this policy grants exactly them, on this API and
    // stage. Attach it to the deploy role (the smoke test signs its DELETE) and to operators.
    const policyDocument: PolicyDocument = {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'InvokeIamRoutes',
          Effect: 'Allow',
          Action: 'execute-api:Invoke',
          Resource: iamRouteKeys.map((routeKey) => `${this.api.executionArn}/${this.stage.name}/${invokeResourcePath(routeKey)}`),
        },
      ],
    };
    this.protectedRoutesPolicy =
      iamRouteKeys.length === 0
        ? null
        : new IamPolicy(this, 'protected-routes-policy', {
            name: `${namePrefix}-invoke-protected-routes`,
            description: `Call the HTTP API routes that need IAM: ${iamRouteKeys.join(', ')}`,
            policy: JSON.stringify(policyDocument),
            tags: { Name: `${namePrefix}-invoke-protected-routes` },
          });
  }
}
