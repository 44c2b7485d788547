import type { FileSystemConfig } from '../config.js';
import { formatNumber, planThroughput, sustains } from './throughput.js';

/**
 * Checks the configured throughput mode against the declared workload (`fileSystem.workload`).
 * @returns a warning that says what to change, or `null` when the mode sustains the workload.
 * @example
 * throughputWarning({ ...fileSystem, throughput: { mode: 'bursting' } });
 * // 'EFS throughput mode bursting sustains 20 cold starts of 2 GiB a day ... fewer than the 50 declared ...'
 */
export function throughputWarning(config: FileSystemConfig): string | null {
  const { workload, throughput } = config;
  const plan = planThroughput({
    storedGib: workload.storedGib,
    coldStartGib: workload.coldStartGib,
    coldStartsPerDay: workload.coldStartsPerDay,
  });
  const result = sustains(plan, throughput);
  if (result.ok) return null;
  const mode = throughput.mode === 'provisioned' ? `provisioned at ${formatNumber(throughput.mibps)} MiB/s` : throughput.mode;
  return (
    `EFS throughput mode ${mode} sustains ${formatNumber(result.coldStartsPerDay ?? 0)} cold starts of ` +
    `${formatNumber(workload.coldStartGib)} GiB a day with ${formatNumber(workload.storedGib)} GiB stored, fewer than the ` +
    `${formatNumber(workload.coldStartsPerDay)} declared in fileSystem.workload: set fileSystem.throughput to ` +
    `{ mode: 'elastic' } or { mode: 'provisioned', mibps: ${formatNumber(plan.requiredProvisionedMibps ?? 1)} } or more ` +
    `(details: pnpm --filter @lambda-efs/infra plan-throughput --size-gib ${workload.storedGib} ` +
    `--cold-start-gib ${workload.coldStartGib} --cold-starts-per-day ${workload.coldStartsPerDay}).`
  );
}
