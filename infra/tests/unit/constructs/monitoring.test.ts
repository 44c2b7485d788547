import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { afterAll, describe, expect, it } from 'vitest';

import type { FileSystemConfig, FunctionsConfig, MonitoringConfig } from '../../../src/config.js';
import { clientConnectionsThreshold, maxClientConnections, Monitoring } from '../../../src/constructs/monitoring.js';
import { fixtureConfig } from '../../fixtures/config.js';
import { fixtureSystem } from '../../fixtures/system.js';
import { bundleFixtures, referenceTo, resources, synthScope, temporaryDirectory } from '../../helpers.js';
import { buildFunctions } from './build.js';

const work = temporaryDirectory('monitoring');
afterAll(() => work.remove());
const system = fixtureSystem();
const bundles = await bundleFixtures(system, work.path);

function synthMonitoring(
  monitoring: Partial<MonitoringConfig> = {},
  fileSystem: Partial<FileSystemConfig> = {},
  functions: Partial<FunctionsConfig> = {},
): ReturnType<typeof synthScope> {
  const base = fixtureConfig();
  const config = { ...base, functions: { ...base.functions, ...functions } };
  return synthScope((scope) => {
    const built = buildFunctions(scope, config, system, bundles);
    new Monitoring(scope, 'monitoring', {
      namePrefix: config.namePrefix,
      config: { ...config.monitoring, ...monitoring },
      fileSystemConfig: { ...config.fileSystem, ...fileSystem },
      fileSystemId: built.fileSystem.fileSystem.id,
      functions: built.functions.functions,
      apiId: 'api-1234',
      accountConcurrency: config.functions.accountConcurrency,
    });
  });
}

const alarmNames = (json: ReturnType<typeof synthScope>['json']): string[] =>
  Object.values(resources(json, 'aws_cloudwatch_metric_alarm'))
    .map((alarm) => alarm['alarm_name'] as string)
    .sort();

describe('Monitoring', () => {
  const { text, json } = synthMonitoring();

  it('sends every alarm and its recovery to one SNS topic', () => {
    expect(text).toHaveResourceWithProperties(SnsTopic, { name: 'lambda-efs-dev-alarms' });
    for (const alarm of Object.values(resources(json, 'aws_cloudwatch_metric_alarm'))) {
      expect(alarm['alarm_actions']).toEqual([expect.stringMatching(referenceTo('aws_sns_topic', 'arn'))]);
      expect(alarm['ok_actions']).toEqual(alarm['alarm_actions']);
      expect(alarm['treat_missing_data']).toBe('notBreaching');
    }
  });

  it("watches PercentIOLimit, ClientConnections, the API's 5xx, and each function's duration, errors and throttles (elastic: no credit alarm)", () => {
    expect(alarmNames(json)).toEqual([
      'lambda-efs-dev-api-5xx',
      'lambda-efs-dev-efs-client-connections',
      'lambda-efs-dev-efs-percent-io-limit',
      'lambda-efs-dev-efs-provisioner-duration',
      'lambda-efs-dev-efs-provisioner-errors',
      'lambda-efs-dev-efs-provisioner-throttles',
      'lambda-efs-dev-message-wall-duration',
      'lambda-efs-dev-message-wall-errors',
      'lambda-efs-dev-message-wall-throttles',
      'lambda-efs-dev-ml-inference-duration',
      'lambda-efs-dev-ml-inference-errors',
      'lambda-efs-dev-ml-inference-throttles',
    ]);
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      namespace: 'AWS/EFS',
      metric_name: 'PercentIOLimit',
      dimensions: { FileSystemId: expect.stringMatching(referenceTo('aws_efs_file_system', 'id')) },
      threshold: 95,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
    });
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      namespace: 'AWS/Lambda',
      metric_name: 'Throttles',
      dimensions: { FunctionName: 'lambda-efs-dev-ml-inference' },
    });
  });

  it('alarms on any 5xx the HTTP API answers (handlers answer failures as 5xx responses, which Lambda does not count as errors)', () => {
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'lambda-efs-dev-api-5xx',
      namespace: 'AWS/ApiGateway',
      metric_name: '5xx',
      dimensions: { ApiId: 'api-1234' },
      statistic: 'Sum',
      threshold: 1,
    });
  });

  it("alarms when a function's longest run reaches 80% of its timeout (ml-inference: 29 s → 23,200 ms)", () => {
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'lambda-efs-dev-ml-inference-duration',
      namespace: 'AWS/Lambda',
      metric_name: 'Duration',
      statistic: 'Maximum',
      unit: 'Milliseconds',
      threshold: 23_200,
      comparison_operator: 'GreaterThanOrEqualToThreshold',
    });
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'lambda-efs-dev-message-wall-duration',
      threshold: 8_000,
    });
  });

  it("alarms on ClientConnections at 80% of the account's quota when nothing is reserved (1000 → 800), so it can fire", () => {
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      metric_name: 'ClientConnections',
      statistic: 'Sum',
      threshold: 800,
    });
  });

  it('alarms on ClientConnections at 80% of the reservations when every mounting function reserves (50 + 10 + 5)', () => {
    const reserved = synthMonitoring({}, {}, { reservedConcurrency: { 'message-wall': 50, 'ml-inference': 10, 'efs-provisioner': 5 } });
    expect(reserved.text).toHaveResourceWithProperties(CloudwatchMetricAlarm, { metric_name: 'ClientConnections', threshold: 52 });
  });

  it('subscribes no e-mail unless one is configured', () => {
    expect(text).not.toHaveResource(SnsTopicSubscription);
    const withEmail = synthMonitoring({ alarmEmail: 'ops@example.com' });
    expect(withEmail.text).toHaveResourceWithProperties(SnsTopicSubscription, { protocol: 'email', endpoint: 'ops@example.com' });
  });

  it('alarms on BurstCreditBalance in bursting mode, below 10 cold-start loads of 2 GiB', () => {
    const bursting = synthMonitoring({}, { throughput: { mode: 'bursting' } });
    expect(bursting.text).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      alarm_name: 'lambda-efs-dev-efs-burst-credit-balance',
      metric_name: 'BurstCreditBalance',
      statistic: 'Minimum',
      comparison_operator: 'LessThanThreshold',
      threshold: 10 * 2 * 1024 ** 3,
    });
  });
});

describe('clientConnectionsThreshold', () => {
  const monitoring = fixtureConfig().monitoring;
  const fn = (reservedConcurrency: number | null, mounts = true) =>
    ({ reservedConcurrency, definition: { fileSystem: mounts ? {} : null } }) as never;

  it('uses the configured value when there is one', () => {
    expect(clientConnectionsThreshold({ ...monitoring, clientConnections: 7 }, [fn(50)], 1000)).toBe(7);
  });

  it("counts an unreserved mounting function as the account's unreserved quota: 80% of (50 + 1000 − 50)", () => {
    expect(maxClientConnections([fn(50), fn(null)], 1000)).toBe(1000);
    expect(clientConnectionsThreshold(monitoring, [fn(50), fn(null)], 1000)).toBe(800);
  });

  it("caps at EFS's 25,000 connections", () => {
    expect(clientConnectionsThreshold(monitoring, [fn(null)], 50_000)).toBe(20_000);
  });

  it('ignores what functions that do not mount the file system can run, beyond what they reserve', () => {
    expect(clientConnectionsThreshold(monitoring, [fn(50), fn(null, false)], 1000)).toBe(40);
    // An unreserved non-mounting function and a reserved one that mounts: only the reservation counts.
    expect(maxClientConnections([fn(20), fn(100, false)], 1000)).toBe(20);
  });
});
