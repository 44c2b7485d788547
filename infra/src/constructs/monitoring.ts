import { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
import { SnsTopicSubscription } from '@cdktf/provider-aws/lib/sns-topic-subscription/index.js';
import { SnsTopic } from '@cdktf/provider-aws/lib/sns-topic/index.js';
import { Construct } from 'constructs';

import type { FileSystemConfig, MonitoringConfig } from '../config.js';
import type { DeployedFunction } from './functions.js';

/** EFS allows 25,000 connections per file system; each Lambda execution environment holds one. */
const EFS_CONNECTION_LIMIT = 25_000;
const BYTES_PER_GIB = 1024 ** 3;
const FIVE_MINUTES = 300;

export interface MonitoringProps {
  readonly namePrefix: string;
  readonly config: MonitoringConfig;
  readonly fileSystemConfig: FileSystemConfig;
  readonly fileSystemId: string;
  /** By declared function name. */
  readonly functions: ReadonlyMap<string, DeployedFunction>;
  /** The HTTP API whose 5xx answers are alarmed. */
  readonly apiId: string;
  /** The account's Lambda concurrency quota (`functions.accountConcurrency`). */
  readonly accountConcurrency: number;
}

/**
 * The most execution environments the mounting functions can run at once, so the most EFS
 * connections they can hold: each reserved function its reservation; the unreserved ones together
 * what the account's quota leaves unreserved; never above EFS's 25,000.
 */
export function maxClientConnections(
  functions: readonly Pick<DeployedFunction, 'definition' | 'reservedConcurrency'>[],
  accountConcurrency: number,
): number {
  const reservedTotal = functions.reduce((total, fn) => total + (fn.reservedConcurrency ?? 0), 0);
  const mounting = functions.filter((fn) => fn.definition.fileSystem !== null);
  const reservedMounting = mounting.reduce((total, fn) => total + (fn.reservedConcurrency ?? 0), 0);
  const unreservedPool = mounting.some((fn) => fn.reservedConcurrency === null) ? Math.max(0, accountConcurrency - reservedTotal) : 0;
  return Math.min(EFS_CONNECTION_LIMIT, reservedMounting + unreservedPool);
}

/**
 * The ClientConnections threshold: the configured one, else 80% of {@link maxClientConnections}
 * (the concurrency the functions can really reach in this account), so the alarm fires before the
 * functions are throttled, and can fire at all.
 */
export function clientConnectionsThreshold(
  config: MonitoringConfig,
  functions: readonly Pick<DeployedFunction, 'definition' | 'reservedConcurrency'>[],
  accountConcurrency: number,
): number {
  if (config.clientConnections !== null) return config.clientConnections;
  return Math.max(1, Math.floor(maxClientConnections(functions, accountConcurrency) * 0.8));
}

/**
 * Alarms to one SNS topic (with an optional e-mail subscription): EFS BurstCreditBalance (bursting
 * mode only: below the configured number of cold-start loads), PercentIOLimit, ClientConnections
 * (from the concurrency the functions can really reach); the HTTP API's 5xx (the handlers answer
 * errors as 5xx responses, which Lambda does not count as Errors); each function's Duration near
 * its timeout, Errors and Throttles. Missing data is not breaching: idle is healthy.
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
        unit?: string;
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
          ...(settings.unit === undefined ? {} : { unit: settings.unit }),
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
          "throughput, or set the functions' reserved concurrency to 0 until credits recover.",
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
    const connections = clientConnectionsThreshold(config, [...props.functions.values()], props.accountConcurrency);
    alarm('efs-client-connections', {
      description:
        `${connections} or more EFS client connections: 80% of the ${maxClientConnections([...props.functions.values()], props.accountConcurrency)} ` +
        'execution environments the mounting functions can run at once (one connection each). Throttling is near: ' +
        'raise functions.reservedConcurrency or the account quota, or find what floods the API.',
      namespace: 'AWS/EFS',
      metricName: 'ClientConnections',
      dimensions: fileSystem,
      statistic: 'Sum',
      period: 60,
      evaluationPeriods: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: connections,
    });

    alarm('api-5xx', {
      description:
        `The HTTP API answered ${config.api5xx} or more 5xx in 5 minutes (500: a function failed or was throttled; ` +
        "503: no model installed, or the 30 s integration timeout): see the access log group and the functions' logs.",
      namespace: 'AWS/ApiGateway',
      metricName: '5xx',
      dimensions: { ApiId: props.apiId },
      statistic: 'Sum',
      period: FIVE_MINUTES,
      evaluationPeriods: 1,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: config.api5xx,
    });

    for (const [name, fn] of props.functions) {
      const timeoutMs = fn.definition.timeoutSeconds * 1000;
      alarm(`${name}-duration`, {
        description:
          `Function ${fn.functionName} ran ${config.durationPercentOfTimeout}% of its ${fn.definition.timeoutSeconds} s timeout: ` +
          'the next slow run times out. Look for slow EFS reads (throughput mode), cold starts or slow image URLs.',
        namespace: 'AWS/Lambda',
        metricName: 'Duration',
        dimensions: { FunctionName: fn.functionName },
        statistic: 'Maximum',
        unit: 'Milliseconds',
        period: FIVE_MINUTES,
        evaluationPeriods: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: Math.round((timeoutMs * config.durationPercentOfTimeout) / 100),
      });
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
