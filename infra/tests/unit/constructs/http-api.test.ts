import { Apigatewayv2Api } from '@cdktf/provider-aws/lib/apigatewayv2-api/index.js';
import { Apigatewayv2Authorizer } from '@cdktf/provider-aws/lib/apigatewayv2-authorizer/index.js';
import { Apigatewayv2Integration } from '@cdktf/provider-aws/lib/apigatewayv2-integration/index.js';
import { Apigatewayv2Route } from '@cdktf/provider-aws/lib/apigatewayv2-route/index.js';
import { Apigatewayv2Stage } from '@cdktf/provider-aws/lib/apigatewayv2-stage/index.js';
import { IamPolicy } from '@cdktf/provider-aws/lib/iam-policy/index.js';
import { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
import { afterAll, describe, expect, it } from 'vitest';

import { environmentConfig, readDeployEnvironment, type ApiConfig, type InfraConfig } from '../../../src/config.js';
import { ACCESS_LOG_FORMAT, HttpApi, routeId } from '../../../src/constructs/http-api.js';
import { fixtureConfig, fixtureProdConfig } from '../../fixtures/config.js';
import { fixtureSystem } from '../../fixtures/system.js';
import { bundleFixtures, referenceTo, resources, synthScope, temporaryDirectory } from '../../helpers.js';
import { buildFunctions } from './build.js';

const work = temporaryDirectory('http-api');
afterAll(() => work.remove());
const system = fixtureSystem();
const bundles = await bundleFixtures(system, work.path);

function synthApi(api: Partial<ApiConfig> = {}, config: InfraConfig = fixtureConfig()): ReturnType<typeof synthScope> {
  return synthScope((scope) => {
    const { functions } = buildFunctions(scope, config, system, bundles);
    new HttpApi(scope, 'http', {
      namePrefix: config.namePrefix,
      config: { ...config.api, ...api },
      routes: system.routes,
      functions: functions.functions,
    });
  });
}

describe('HttpApi', () => {
  const { text, json } = synthApi();

  it('creates an HTTP API', () => {
    expect(text).toHaveResourceWithProperties(Apigatewayv2Api, { name: 'lambda-efs-dev-http-api', protocol_type: 'HTTP' });
  });

  it('integrates each function as a Lambda proxy with payload format 2.0; the alias when there is one', () => {
    expect(text).toHaveResourceWithProperties(Apigatewayv2Integration, {
      integration_type: 'AWS_PROXY',
      payload_format_version: '2.0',
      integration_uri: expect.stringMatching(referenceTo('aws_lambda_function', 'invoke_arn')),
      timeout_milliseconds: 30000,
    });
    expect(text).toHaveResourceWithProperties(Apigatewayv2Integration, {
      integration_uri: expect.stringMatching(referenceTo('aws_lambda_alias', 'invoke_arn')),
    });
  });

  it('lets API Gateway invoke each function from any stage and route ("${execution_arn}/*/*"), the alias qualified', () => {
    const sourceArn = expect.stringMatching(/^\$\{aws_apigatewayv2_api\.[^.]+\.execution_arn\}\/\*\/\*$/);
    expect(text).toHaveResourceWithProperties(LambdaPermission, {
      action: 'lambda:InvokeFunction',
      principal: 'apigateway.amazonaws.com',
      source_arn: sourceArn,
    });
    expect(text).toHaveResourceWithProperties(LambdaPermission, {
      source_arn: sourceArn,
      qualifier: expect.stringMatching(referenceTo('aws_lambda_alias', 'name')),
    });
    const permissions = Object.values(resources(json, 'aws_lambda_permission'));
    expect(permissions.filter((permission) => 'qualifier' in permission)).toHaveLength(1);
  });

  it('gives a function with no routes (the provisioner) no integration and no invoke permission', () => {
    const integrations = Object.values(resources(json, 'aws_apigatewayv2_integration'));
    expect(integrations.map((integration) => integration['description'])).toEqual([
      'Function lambda-efs-dev-message-wall',
      expect.stringMatching(/^Function lambda-efs-dev-ml-inference \(alias /),
    ]);
    const permissions = Object.values(resources(json, 'aws_lambda_permission'));
    expect(permissions.map((permission) => permission['function_name'])).toEqual([
      expect.stringContaining('functions_message-wall_function'),
      expect.stringContaining('functions_ml-inference_function'),
    ]);
    expect(JSON.stringify(resources(json, 'aws_apigatewayv2_route'))).not.toContain('efs-provisioner');
  });

  it("creates every declared route and the wall's DELETE routes, all open in dev (as in the post), with no invoke policy", () => {
    const routes = Object.values(resources(json, 'aws_apigatewayv2_route'));
    expect(routes.map((route) => route['route_key']).sort()).toEqual(
      [
        'ANY /message-wall',
        'ANY /message-wall/{wall}',
        'GET /ml-inference',
        'POST /ml-inference',
        'DELETE /message-wall',
        'DELETE /message-wall/{wall}',
      ].sort(),
    );
    expect(resources(json, 'aws_iam_policy')).toEqual({});
    for (const route of routes) {
      expect(route).toMatchObject({
        authorization_type: 'NONE',
        target: expect.stringMatching(/^integrations\/\$\{aws_apigatewayv2_integration\.[^.]+\.id\}$/),
      });
    }
  });

  it('serves the auto-deployed $default stage with throttling and JSON access logs', () => {
    expect(text).toHaveResourceWithProperties(Apigatewayv2Stage, {
      name: '$default',
      auto_deploy: true,
      default_route_settings: { throttling_burst_limit: 100, throttling_rate_limit: 50, detailed_metrics_enabled: true },
      access_log_settings: {
        destination_arn: expect.stringMatching(referenceTo('aws_cloudwatch_log_group', 'arn')),
        format: JSON.stringify(ACCESS_LOG_FORMAT),
      },
    });
    expect(Object.values(ACCESS_LOG_FORMAT).every((value) => value.startsWith('$context.'))).toBe(true);
  });
});

describe('HttpApi authorization', () => {
  const { text } = synthApi({
    jwtAuthorizers: { cognito: { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example', audience: ['client-id'] } },
    routeAuthorization: {
      'POST /ml-inference': { type: 'JWT', authorizer: 'cognito', scopes: ['ml/classify'] },
      'ANY /message-wall/{wall}': { type: 'AWS_IAM' },
    },
  });

  it('creates the JWT authorizers', () => {
    expect(text).toHaveResourceWithProperties(Apigatewayv2Authorizer, {
      name: 'cognito',
      authorizer_type: 'JWT',
      identity_sources: ['$request.header.Authorization'],
      jwt_configuration: { issuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example', audience: ['client-id'] },
    });
  });

  it('protects a route with a JWT authorizer and scopes, another with IAM, and leaves the rest open', () => {
    expect(text).toHaveResourceWithProperties(Apigatewayv2Route, {
      route_key: 'POST /ml-inference',
      authorization_type: 'JWT',
      authorizer_id: expect.stringMatching(referenceTo('aws_apigatewayv2_authorizer', 'id')),
      authorization_scopes: ['ml/classify'],
    });
    expect(text).toHaveResourceWithProperties(Apigatewayv2Route, { route_key: 'ANY /message-wall/{wall}', authorization_type: 'AWS_IAM' });
    expect(text).toHaveResourceWithProperties(Apigatewayv2Route, { route_key: 'GET /ml-inference', authorization_type: 'NONE' });
  });
});

/** Route key → authorization type of every synthesized route. */
function authorizationByRoute(json: ReturnType<typeof synthScope>['json']): Record<string, unknown> {
  return Object.fromEntries(
    Object.values(resources(json, 'aws_apigatewayv2_route')).map((route) => [route['route_key'], route['authorization_type']]),
  );
}

describe("HttpApi in prod: the wall's DELETE needs IAM", () => {
  const { text, json } = synthApi({}, fixtureProdConfig());

  it('adds DELETE routes next to the ANY routes, served by message-wall, with AWS_IAM; every other route stays open', () => {
    expect(authorizationByRoute(json)).toEqual({
      'ANY /message-wall': 'NONE',
      'ANY /message-wall/{wall}': 'NONE',
      'DELETE /message-wall': 'AWS_IAM',
      'DELETE /message-wall/{wall}': 'AWS_IAM',
      'GET /ml-inference': 'NONE',
      'POST /ml-inference': 'NONE',
    });
    const routes = Object.values(resources(json, 'aws_apigatewayv2_route'));
    const targetOf = (routeKey: string): unknown => routes.find((route) => route['route_key'] === routeKey)?.['target'];
    expect(targetOf('DELETE /message-wall')).toBe(targetOf('ANY /message-wall'));
    expect(targetOf('DELETE /message-wall/{wall}')).toBe(targetOf('ANY /message-wall'));
    expect(targetOf('DELETE /message-wall')).not.toBe(targetOf('GET /ml-inference'));
  });

  it('creates a managed policy allowing execute-api:Invoke on exactly those routes of this API and stage', () => {
    expect(text).toHaveResourceWithProperties(IamPolicy, { name: 'lambda-efs-prod-invoke-protected-routes' });
    const [policy] = Object.values(resources(json, 'aws_iam_policy'));
    const document = JSON.parse(String(policy?.['policy'])) as { Statement: { Effect: string; Action: string; Resource: string[] }[] };
    const arn = String.raw`^\$\{aws_apigatewayv2_api\.[^.}]+\.execution_arn\}/\$\{aws_apigatewayv2_stage\.[^.}]+\.name\}`;
    expect(document.Statement).toEqual([
      {
        Sid: 'InvokeIamRoutes',
        Effect: 'Allow',
        Action: 'execute-api:Invoke',
        Resource: [
          expect.stringMatching(new RegExp(`${arn}/DELETE/message-wall$`)),
          expect.stringMatching(new RegExp(`${arn}/DELETE/message-wall/\\*$`)),
        ],
      },
    ]);
  });
});

describe('HttpApi route authorization from the deploy environment', () => {
  it("opens prod's DELETE routes per key with LAMBDA_EFS_ROUTE_AUTHORIZATION, and protects dev's", () => {
    const deploy = readDeployEnvironment({ LAMBDA_EFS_ROUTE_AUTHORIZATION: 'DELETE /message-wall=NONE' });
    const prod = { ...fixtureProdConfig(), api: environmentConfig('prod', deploy).api };
    expect(authorizationByRoute(synthApi({}, prod).json)).toMatchObject({
      'DELETE /message-wall': 'NONE',
      'DELETE /message-wall/{wall}': 'AWS_IAM',
    });

    const protect = readDeployEnvironment({
      LAMBDA_EFS_ROUTE_AUTHORIZATION: 'DELETE /message-wall/{wall}=AWS_IAM, POST /ml-inference=AWS_IAM',
    });
    const dev = { ...fixtureConfig(), api: environmentConfig('dev', protect).api };
    const { json } = synthApi({}, dev);
    expect(authorizationByRoute(json)).toMatchObject({
      'DELETE /message-wall': 'NONE',
      'DELETE /message-wall/{wall}': 'AWS_IAM',
      'POST /ml-inference': 'AWS_IAM',
    });
    expect(Object.values(resources(json, 'aws_iam_policy'))).toHaveLength(1);
  });
});

describe('routeId', () => {
  it.each([
    ['ANY /message-wall', 'route-ANY-message-wall'],
    ['ANY /message-wall/{wall}', 'route-ANY-message-wall-wall'],
    ['GET /files/{proxy+}', 'route-GET-files-proxy-greedy'],
    ['GET /', 'route-GET-root'],
    ['$default', 'route-default'],
  ])('names %s %s', (routeKey, id) => {
    expect(routeId(routeKey)).toBe(id);
  });
});
