import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { afterAll, describe, expect, it } from 'vitest';

import type { FileSystemConfig, MonitoringConfig } from '../../../src/config.js';
import { clientConnectionsThreshold, Monitoring } from '../../../src/constructs/monitoring.js';
import { fixtureConfig } from '../../fixtures/config.js';
import { fixtureSystem } from '../../fixtures/system.js';
import { bundleFixtures, referenceTo, resources, synthScope, temporaryDirectory } from '../../helpers.js';
import { buildFunctions } from './build.js';

const work = temporaryDirectory('monitoring');
afterAll(() => work.remove());
const system = fixtureSystem();
const bundles = await bundleFixtures(system, work.path);

function synthMonitoring(monitoring: Partial<MonitoringConfig> = {}, fileSystem: Partial<FileSystemConfig> = {}): ReturnType<typeof synthScope> {
  const config = fixtureConfig();
  return synthScope((scope) => {
    const built = buildFunctions(scope, config, system, bundles);
    new Monitoring(scope, 'monitoring', {
      namePrefix: config.namePrefix,
      config: { ...config.monitoring, ...monitoring },
      fileSystemConfig: { ...config.fileSystem, ...fileSystem },
      fileSystemId: built.fileSystem.fileSystem.id,
      functions: built.functions.functions,
    });
  });
}

const alarmNames = (json: ReturnType<typeof synthScope>['json']): string[] =>
  Object.values(resources(json, 'aws_cloudwatch_metric_alarm')).map((alarm) => alarm['alarm_name'] as string).sort();

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

  it('watches PercentIOLimit and ClientConnections, and each function\'s errors and throttles (elastic: no credit alarm)', () => {
    expect(alarmNames(json)).toEqual([
      'lambda-efs-dev-efs-client-connections',
      'lambda-efs-dev-efs-percent-io-limit',
      'lambda-efs-dev-message-wall-errors',
      'lambda-efs-dev-message-wall-throttles',
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

  it('alarms on ClientConnections at 80% of the summed reserved concurrency (50 + 10)', () => {
    expect(text).toHaveResourceWithProperties(CloudwatchMetricAlarm, { metric_name: 'ClientConnections', statistic: 'Sum', threshold: 48 });
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
    ({ definition: { reservedConcurrency, fileSystem: mounts ? {} : null } }) as never;

  it('uses the configured value when there is one', () => {
    expect(clientConnectionsThreshold({ ...monitoring, clientConnections: 7 }, [fn(50)])).toBe(7);
  });

  it('falls back to 80% of EFS\'s 25,000 connections when a mounting function reserves nothing', () => {
    expect(clientConnectionsThreshold(monitoring, [fn(50), fn(null)])).toBe(20_000);
  });

  it('ignores functions that do not mount the file system', () => {
    expect(clientConnectionsThreshold(monitoring, [fn(50), fn(null, false)])).toBe(40);
  });
});
