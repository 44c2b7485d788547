import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { Construct } from 'constructs';

import type { FileSystemConfig, MonitoringConfig } from '../config.js';
import type { DeployedFunction } from './functions.js';

/** EFS allows 25,000 connections per file system; each Lambda execution environment holds one. */
export const EFS_CONNECTION_LIMIT = 25_000;
const BYTES_PER_GIB = 1024 ** 3;
const FIVE_MINUTES = 300;

export interface MonitoringProps {
  readonly namePrefix: string;
  readonly config: MonitoringConfig;
  readonly fileSystemConfig: FileSystemConfig;
  readonly fileSystemId: string;
  /** By declared function name. */
  readonly functions: ReadonlyMap<string, DeployedFunction>;
}

/**
 * The ClientConnections threshold: the configured one, else 80% of the mounting functions' summed
 * reserved concurrency when every one reserves some (that sum caps the connections), else 80% of
 * EFS's 25,000 limit.
 */
export function clientConnectionsThreshold(config: MonitoringConfig, functions: readonly DeployedFunction[]): number {
  if (config.clientConnections !== null) return config.clientConnections;
  const mounting = functions.filter((fn) => fn.definition.fileSystem !== null);
  const reserved = mounting.map((fn) => fn.definition.reservedConcurrency);
  if (mounting.length > 0 && reserved.every((value) => value !== null && value > 0)) {
    const sum = reserved.reduce<number>((total, value) => total + (value ?? 0), 0);
    return Math.max(1, Math.floor(sum * 0.8));
  }
  return Math.floor(EFS_CONNECTION_LIMIT * 0.8);
}

/**
 * Alarms to one SNS topic (with an optional e-mail subscription): EFS BurstCreditBalance (bursting
 * mode only: below the configured number of cold-start loads), PercentIOLimit, ClientConnections;
 * each function's Errors and Throttles. Missing data is not breaching: idle is healthy.
 */
export class Monitoring extends Construct {
  readonly topic: SnsTopic;
  readonly alarms: readonly CloudwatchMetricAlarm[];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { config, namePrefix } = props;
    // Not KMS-encrypted: CloudWatch cannot publish to a topic encrypted with the AWS-managed SNS
    // key, and alarm messages carry no secrets.
    this.topic = new SnsTopic(this, 'alarm-topic', { name: `${namePrefix}-alarms`, tags: { Name: `${namePrefix}-alarms` } });
    if (config.alarmEmail !== null) {
      new SnsTopicSubscription(this, 'alarm-email', {
        topicArn: this.topic.arn,
        protocol: 'email',
        endpoint: config.alarmEmail,
      });
    }

    const alarms: CloudwatchMetricAlarm[] = [];
    const alarm = (
      alarmId: string,
      settings: {
        description: string;
        namespace: string;
        metricName: string;
        dimensions: Record<string, string>;
        statistic: 'Sum' | 'Minimum' | 'Maximum';
        period: number;
        evaluationPeriods: number;
        comparisonOperator: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold';
        threshold: number;
      },
    ): void => {
      alarms.push(
        new CloudwatchMetricAlarm(this, alarmId, {
          alarmName: `${namePrefix}-${alarmId}`,
          alarmDescription: settings.description,
          namespace: settings.namespace,
          metricName: settings.metricName,
          dimensions: settings.dimensions,
          statistic: settings.statistic,
          period: settings.period,
          evaluationPeriods: settings.evaluationPeriods,
          comparisonOperator: settings.comparisonOperator,
          threshold: settings.threshold,
          treatMissingData: 'notBreaching',
          alarmActions: [this.topic.arn],
          okActions: [this.topic.arn],
        }),
      );
    };

    const fileSystem = { FileSystemId: props.fileSystemId };
    const { throughput, workload } = props.fileSystemConfig;
    if (throughput.mode === 'bursting') {
      alarm('efs-burst-credit-balance', {
        description:
          `EFS burst credits below ${config.burstCreditColdStarts} cold-start loads of ${workload.coldStartGib} GiB: ` +
          'at zero, throughput drops to the baseline and functions can time out. Switch to elastic or provisioned ' +
          'throughput, or set the functions\' reserved concurrency to 0 until credits recover.',
        namespace: 'AWS/EFS',
        metricName: 'BurstCreditBalance',
        dimensions: fileSystem,
        statistic: 'Minimum',
        period: FIVE_MINUTES,
        evaluationPeriods: 1,
        comparisonOperator: 'LessThanThreshold',
        threshold: Math.round(config.burstCreditColdStarts * workload.coldStartGib * BYTES_PER_GIB),
      });
    }
    alarm('efs-percent-io-limit', {
      description: `EFS at ${config.percentIoLimit}% of the General Purpose I/O limit for 5 minutes: operations will slow down.`,
      namespace: 'AWS/EFS',
      metricName: 'PercentIOLimit',
      dimensions: fileSystem,
      statistic: 'Maximum',
      period: 60,
      evaluationPeriods: 5,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: config.percentIoLimit,
    });
    const connections = clientConnectionsThreshold(config, [...props.functions.values()]);
    alarm('efs-client-connections', {
      description:
        `${connections} or more EFS client connections (one per Lambda execution environment; EFS allows ` +
        `${EFS_CONNECTION_LIMIT}): cap the functions with reserved concurrency.`,
      namespace: 'AWS/EFS',
      metricName: 'ClientConnections',
      dimensions: fileSystem,
      statistic: 'Sum',
      period: 60,
      evaluationPeriods: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: connections,
    });

    for (const [name, fn] of props.functions) {
      alarm(`${name}-errors`, {
        description: `Function ${fn.functionName} failed ${config.functionErrors} or more times in 5 minutes: see its log group /aws/lambda/${fn.functionName}.`,
        namespace: 'AWS/Lambda',
        metricName: 'Errors',
        dimensions: { FunctionName: fn.functionName },
        statistic: 'Sum',
        period: FIVE_MINUTES,
        evaluationPeriods: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: config.functionErrors,
      });
      alarm(`${name}-throttles`, {
        description: `Function ${fn.functionName} was throttled ${config.functionThrottles} or more times in 5 minutes (API clients got 500s): raise its reserved concurrency or the account limit.`,
        namespace: 'AWS/Lambda',
        metricName: 'Throttles',
        dimensions: { FunctionName: fn.functionName },
        statistic: 'Sum',
        period: FIVE_MINUTES,
        evaluationPeriods: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: config.functionThrottles,
      });
    }
    this.alarms = alarms;
  }
}
