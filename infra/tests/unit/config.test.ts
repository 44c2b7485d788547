import { defineFunction } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import {
  availabilityZones,
  environmentConfig,
  readDeployEnvironment,
  readSynthEnvironment,
  validateConfig,
  zoneCount,
  type InfraConfig,
} from '../../src/config.js';
import { InfraConfigError } from '../../src/errors.js';
import { fixtureConfig } from '../fixtures/config.js';
import { efsProvisioner, fixtureSystem, messageWall, mlInference } from '../fixtures/system.js';

const NO_DEPLOY = {
  stateBucket: null,
  stateRegion: null,
  alarmEmail: null,
  accountId: null,
  reservedConcurrency: null,
  accountConcurrency: null,
  routeAuthorization: null,
};

function problemsOf(config: InfraConfig, system = fixtureSystem()): readonly string[] {
  try {
    validateConfig(config, system);
  } catch (error) {
    expect(error).toBeInstanceOf(InfraConfigError);
    expect((error as InfraConfigError).code).toBe('EINFRACONFIG');
    return (error as InfraConfigError).problems;
  }
  return [];
}

describe('environmentConfig', () => {
  it('gives dev two zones, one NAT gateway and elastic throughput, with local state by default', () => {
    const dev = environmentConfig('dev', NO_DEPLOY);
    expect(dev.namePrefix).toBe('lambda-efs-dev');
    expect(zoneCount(dev.network)).toBe(2);
    expect(dev.network.kind === 'new' && dev.network.natGateways).toBe('single');
    expect(dev.fileSystem.throughput).toEqual({ mode: 'elastic' });
    expect(dev.backend).toEqual({ kind: 'local', path: 'terraform.tfstate' });
    expect(dev.provider).toEqual({ kind: 'aws', allowedAccountIds: [] });
  });

  it('gives prod three zones and a NAT gateway per zone', () => {
    const prod = environmentConfig('prod', NO_DEPLOY);
    expect(zoneCount(prod.network)).toBe(3);
    expect(prod.network.kind === 'new' && prod.network.natGateways).toBe('per-az');
  });

  it('selects the S3 backend, per environment key, when a state bucket is configured', () => {
    const deploy = { ...NO_DEPLOY, stateBucket: 'my-state', accountId: '123456789012', alarmEmail: 'ops@example.com' };
    const prod = environmentConfig('prod', deploy);
    expect(prod.backend).toEqual({ kind: 's3', bucket: 'my-state', key: 'lambda-efs/prod/terraform.tfstate', region: 'us-east-1' });
    expect(prod.provider).toEqual({ kind: 'aws', allowedAccountIds: ['123456789012'] });
    expect(prod.monitoring.alarmEmail).toBe('ops@example.com');
  });

  it('names no availability zone: it looks them up (use1-az3 left out), or uses <region>a, b, … offline', () => {
    for (const name of ['dev', 'prod'] as const) {
      const config = environmentConfig(name, NO_DEPLOY);
      expect(config.network).toMatchObject({ availabilityZones: { excludeZoneIds: ['use1-az3'] } });
      expect(availabilityZones(config.network, config.region, false)).toBeNull();
    }
    const dev = environmentConfig('dev', NO_DEPLOY);
    expect(availabilityZones(dev.network, 'eu-west-3', true)).toEqual(['eu-west-3a', 'eu-west-3b']);
  });

  it('reserves no concurrency by default (fresh accounts cannot), and takes reservations per function from the environment', () => {
    for (const name of ['dev', 'prod'] as const) {
      expect(environmentConfig(name, NO_DEPLOY).functions.reservedConcurrency).toEqual({});
    }
    const deploy = readDeployEnvironment({
      LAMBDA_EFS_RESERVED_CONCURRENCY: 'message-wall=50, ml-inference=10',
      LAMBDA_EFS_ACCOUNT_CONCURRENCY: '1000',
    });
    const prod = environmentConfig('prod', deploy);
    expect(prod.functions.reservedConcurrency).toEqual({ 'message-wall': 50, 'ml-inference': 10 });
    expect(prod.functions.accountConcurrency).toBe(1000);
    expect(problemsOf(prod)).toEqual([]);
  });

  it("installs the demo model by default, through efs-provisioner, and keeps prod's artifacts on destroy", () => {
    expect(environmentConfig('dev', NO_DEPLOY).artifacts).toMatchObject({
      provisioner: 'efs-provisioner',
      defaultModel: { source: 'demo' },
      forceDestroy: true,
    });
    expect(environmentConfig('prod', NO_DEPLOY).artifacts).toMatchObject({ forceDestroy: false });
  });

  it('leaves DELETE open in dev, as in the post, and needs IAM for it in prod; no other route needs anything', () => {
    expect(environmentConfig('dev', NO_DEPLOY).api).toMatchObject({ deleteAuthorization: 'NONE', routeAuthorization: {} });
    expect(environmentConfig('prod', NO_DEPLOY).api).toMatchObject({ deleteAuthorization: 'AWS_IAM', routeAuthorization: {} });
  });

  it('takes authorization per route key from LAMBDA_EFS_ROUTE_AUTHORIZATION', () => {
    const deploy = readDeployEnvironment({
      LAMBDA_EFS_ROUTE_AUTHORIZATION: ' DELETE /message-wall/{wall}=NONE , POST /ml-inference = AWS_IAM ',
    });
    expect(deploy.routeAuthorization).toEqual({ 'DELETE /message-wall/{wall}': 'NONE', 'POST /ml-inference': 'AWS_IAM' });
    const prod = environmentConfig('prod', deploy);
    expect(prod.api).toMatchObject({
      deleteAuthorization: 'AWS_IAM',
      routeAuthorization: { 'DELETE /message-wall/{wall}': { type: 'NONE' }, 'POST /ml-inference': { type: 'AWS_IAM' } },
    });
    expect(problemsOf(prod)).toEqual([]);
  });

  it('passes validation for both environments with the fixture system', () => {
    expect(problemsOf(environmentConfig('dev', NO_DEPLOY))).toEqual([]);
    expect(problemsOf(environmentConfig('prod', NO_DEPLOY))).toEqual([]);
  });
});

describe('validateConfig', () => {
  it('lists every problem at once, each naming its field', () => {
    const base = fixtureConfig();
    const problems = problemsOf({
      ...base,
      namePrefix: 'Lambda EFS',
      network: { kind: 'new', cidr: '10.20.0.1/16', availabilityZones: ['us-east-1a'], natGateways: 'none' },
      fileSystem: { ...base.fileSystem, throughput: { mode: 'provisioned', mibps: 0 }, kmsKeyDeletionWindowDays: 3 },
      functions: { ...base.functions, logRetentionDays: 10 },
    });
    expect(problems).toEqual([
      expect.stringContaining('namePrefix "Lambda EFS" is invalid'),
      expect.stringContaining('network.availabilityZones ["us-east-1a"] is invalid: give 2 to 8 availability zones'),
      expect.stringContaining('network.cidr "10.20.0.1/16" is invalid'),
      expect.stringContaining('fileSystem.throughput.mibps 0 is invalid: provisioned throughput is 1 MiB/s at least'),
      expect.stringContaining('fileSystem.kmsKeyDeletionWindowDays 3 is invalid: KMS accepts 7 to 30 days'),
      expect.stringContaining('functions.logRetentionDays 10 is invalid: CloudWatch Logs accepts 1, 3, 5'),
    ]);
  });

  it('refuses two entries in one availability zone: EFS allows one mount target per zone', () => {
    const problems = problemsOf({
      ...fixtureConfig(),
      network: {
        kind: 'existing',
        vpcId: 'vpc-0123456789abcdef0',
        subnets: [
          { availabilityZone: 'us-east-1a', subnetId: 'subnet-0123456789abcdef0' },
          { availabilityZone: 'us-east-1a', subnetId: 'subnet-0123456789abcdef1' },
        ],
      },
    });
    expect(problems).toEqual([expect.stringContaining('one entry per availability zone: EFS allows one mount target per zone')]);
  });

  it('refuses zones outside the region', () => {
    const problems = problemsOf({
      ...fixtureConfig(),
      network: { kind: 'new', cidr: '10.20.0.0/16', availabilityZones: ['us-east-1a', 'eu-west-1b'], natGateways: 'none' },
    });
    expect(problems).toEqual([expect.stringContaining('"eu-west-1b" is invalid: name a zone of us-east-1')]);
  });

  it('refuses authorization for an undeclared route or an unknown JWT authorizer', () => {
    const base = fixtureConfig();
    const problems = problemsOf({
      ...base,
      api: {
        ...base.api,
        routeAuthorization: {
          'GET /nowhere': { type: 'AWS_IAM' },
          'GET /ml-inference': { type: 'JWT', authorizer: 'cognito', scopes: [] },
        },
      },
    });
    expect(problems).toEqual([
      expect.stringContaining('api.routeAuthorization "GET /nowhere" is invalid: no function declares this route'),
      expect.stringContaining('api.routeAuthorization["GET /ml-inference"].authorizer "cognito" is invalid: add it to api.jwtAuthorizers'),
    ]);
  });

  it('takes one method of a declared ANY route, but no method of a route declared with another method', () => {
    const base = fixtureConfig();
    const withAuthorization = (routeKey: string): InfraConfig => ({
      ...base,
      api: { ...base.api, routeAuthorization: { [routeKey]: { type: 'AWS_IAM' } } },
    });
    expect(problemsOf(withAuthorization('PUT /message-wall/{wall}'))).toEqual([]);
    expect(problemsOf(withAuthorization('DELETE /ml-inference'))).toEqual([
      'api.routeAuthorization "DELETE /ml-inference" is invalid: no function declares this route, nor an ANY route of its path to take the method from ' +
        '(declared: ANY /message-wall, ANY /message-wall/{wall}, GET /ml-inference, POST /ml-inference); fix the key in environmentConfig or LAMBDA_EFS_ROUTE_AUTHORIZATION.',
    ]);
    // A route of a function the system does not have; prod's own default fits any system.
    expect(problemsOf(environmentConfig('prod', NO_DEPLOY), fixtureSystem([mlInference, efsProvisioner]))).toEqual([]);
    const overridden = environmentConfig('prod', readDeployEnvironment({ LAMBDA_EFS_ROUTE_AUTHORIZATION: 'DELETE /message-wall=NONE' }));
    expect(problemsOf(overridden, fixtureSystem([mlInference, efsProvisioner]))).toEqual([
      expect.stringContaining('api.routeAuthorization "DELETE /message-wall" is invalid: no function declares this route'),
    ]);
    expect(problemsOf({ ...base, api: { ...base.api, deleteAuthorization: 'JWT' as 'NONE' } })).toEqual([
      'api.deleteAuthorization "JWT" is invalid: use NONE or AWS_IAM.',
    ]);
  });

  it('refuses reservations for unknown functions, below provisioned concurrency, or beyond what the account leaves unreserved', () => {
    const base = fixtureConfig();
    expect(problemsOf({ ...base, functions: { ...base.functions, reservedConcurrency: { 'message-wal': 5, 'ml-inference': 1 } } })).toEqual(
      [
        expect.stringContaining(
          'functions.reservedConcurrency "message-wal" is invalid: no function has this name; declared: message-wall, ml-inference, efs-provisioner',
        ),
        expect.stringContaining(
          'functions.reservedConcurrency["ml-inference"] 1 is invalid: reserve at least the declared provisioned concurrency (2)',
        ),
      ],
    );
    // A fresh account with a quota of 10 can reserve nothing: Lambda keeps 10 unreserved.
    expect(
      problemsOf({ ...base, functions: { ...base.functions, reservedConcurrency: { 'message-wall': 5 }, accountConcurrency: 10 } }),
    ).toEqual([expect.stringContaining("reserves 5 of the account's 10, but Lambda keeps 10 unreserved")]);
  });

  it("refuses a routed function whose timeout outlasts the HTTP API's 30 s", () => {
    const slow = defineFunction({ name: 'slow', entry: messageWall.entry, routes: ['GET /slow'], timeoutSeconds: 300 });
    const background = defineFunction({ name: 'background', entry: messageWall.entry, timeoutSeconds: 900 });
    expect(problemsOf(fixtureConfig(), fixtureSystem([slow, background]))).toEqual([
      expect.stringMatching(
        /^function "slow" timeoutSeconds 300 is invalid: it serves HTTP routes, and the HTTP API stops waiting after 30 s .*declare 29 s or less/,
      ),
    ]);
  });

  it("refuses fetch ports (IMAGE_FETCH_ALLOWED_PORTS) the function's security group does not let out", () => {
    const fetcher = (name: string, ports: string) =>
      defineFunction({ name, entry: messageWall.entry, routes: [`GET /${name}`], environment: { IMAGE_FETCH_ALLOWED_PORTS: ports } });
    const base = fixtureConfig();
    const config = { ...base, functions: { ...base.functions, plainHttpEgress: ['ml-inference'] } };
    expect(problemsOf(config, fixtureSystem([fetcher('ml-inference', '80,443')]))).toEqual([]);
    expect(problemsOf(config, fixtureSystem([fetcher('ml-inference', '443,8080'), fetcher('other', '80, 443')]))).toEqual([
      'function "ml-inference" environment IMAGE_FETCH_ALLOWED_PORTS "443,8080" is invalid: its security group lets out 443 and 80 only, so fetches from 8080 would time out; list 443,80 at most.',
      'function "other" environment IMAGE_FETCH_ALLOWED_PORTS "80, 443" is invalid: its security group lets out 443 only, so fetches from 80 would time out; add it to functions.plainHttpEgress.',
    ]);
  });

  it('refuses fewer than 2 zones to look up, and malformed zone ids to leave out', () => {
    const base = fixtureConfig();
    const problems = problemsOf({
      ...base,
      network: { kind: 'new', cidr: '10.20.0.0/16', availabilityZones: { count: 1, excludeZoneIds: ['us-east-1e'] }, natGateways: 'none' },
    });
    expect(problems).toEqual([
      expect.stringContaining(
        'network.availabilityZones {"count":1,"excludeZoneIds":["us-east-1e"]} is invalid: give 2 to 8 availability zones',
      ),
      expect.stringContaining('network.availabilityZones.excludeZoneIds "us-east-1e" is invalid: give zone ids such as "use1-az3"'),
    ]);
  });

  it('refuses a prefix that makes a function or role name longer than 64 characters', () => {
    const longName = defineFunction({ name: 'a-function-with-a-rather-long-name', entry: messageWall.entry });
    const problems = problemsOf({ ...fixtureConfig(), namePrefix: 'lambda-efs-development-account' }, fixtureSystem([longName]));
    expect(problems).toEqual([
      'namePrefix "lambda-efs-development-account" is invalid: "lambda-efs-development-account-a-function-with-a-rather-long-name" ' +
        'is longer than the 64 characters Lambda and IAM allow; shorten the prefix.',
    ]);
  });
});

describe('deploy-time and synth-time environment variables', () => {
  it('reads nothing from an empty environment', () => {
    expect(readDeployEnvironment({})).toEqual(NO_DEPLOY);
    expect(readSynthEnvironment({})).toEqual({ environments: ['dev', 'prod'], onlyBuilt: false });
  });

  it('reads every variable', () => {
    expect(
      readDeployEnvironment({
        LAMBDA_EFS_STATE_BUCKET: 'acme-tf-state',
        LAMBDA_EFS_STATE_REGION: 'eu-west-1',
        LAMBDA_EFS_ALARM_EMAIL: 'ops@example.com',
        LAMBDA_EFS_ACCOUNT_ID: '123456789012',
      }),
    ).toEqual({
      ...NO_DEPLOY,
      stateBucket: 'acme-tf-state',
      stateRegion: 'eu-west-1',
      alarmEmail: 'ops@example.com',
      accountId: '123456789012',
    });
    expect(readSynthEnvironment({ LAMBDA_EFS_ENVIRONMENTS: 'prod', LAMBDA_EFS_ONLY_BUILT: '1' })).toEqual({
      environments: ['prod'],
      onlyBuilt: true,
    });
  });

  it('fails fast naming each malformed variable', () => {
    expect(() => readDeployEnvironment({ LAMBDA_EFS_ACCOUNT_ID: '1234', LAMBDA_EFS_STATE_BUCKET: 'Bad_Bucket' })).toThrow(
      /LAMBDA_EFS_STATE_BUCKET="Bad_Bucket" is invalid[\s\S]*LAMBDA_EFS_ACCOUNT_ID="1234" is invalid: give the 12-digit AWS account id/,
    );
    expect(() => readDeployEnvironment({ LAMBDA_EFS_RESERVED_CONCURRENCY: 'message-wall:50' })).toThrow(
      'LAMBDA_EFS_RESERVED_CONCURRENCY="message-wall:50" is invalid at "message-wall:50": give comma-separated <function>=<whole number> pairs',
    );
    expect(() => readDeployEnvironment({ LAMBDA_EFS_ROUTE_AUTHORIZATION: 'DELETE /message-wall=IAM' })).toThrow(
      'LAMBDA_EFS_ROUTE_AUTHORIZATION="DELETE /message-wall=IAM" is invalid at "DELETE /message-wall=IAM": give comma-separated <route key>=<NONE|AWS_IAM> entries',
    );
    expect(() => readDeployEnvironment({ LAMBDA_EFS_ROUTE_AUTHORIZATION: '/message-wall=AWS_IAM' })).toThrow(
      'is invalid at "/message-wall=AWS_IAM"',
    );
    expect(() => readSynthEnvironment({ LAMBDA_EFS_ENVIRONMENTS: 'dev,staging' })).toThrow(
      'staging is not an environment; use a comma-separated list of dev, prod',
    );
  });
});
