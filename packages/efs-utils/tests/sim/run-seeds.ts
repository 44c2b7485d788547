/** Runs seeds through the simulation and prints failing ones with their trace (used by tests and the soak). */
import { configFor, SimPool, type SimConfig, type SimResult } from './world.js';

export interface SeedReport {
  readonly failures: SimResult[];
  readonly runs: number;
  readonly steps: number;
  readonly acked: number;
  readonly switched: number;
}

export async function runSeeds(
  seeds: Iterable<number>,
  options: { pool?: SimPool; config?: (seed: number) => SimConfig; stopAfter?: number } = {},
): Promise<SeedReport> {
  const pool = options.pool ?? new SimPool();
  const failures: SimResult[] = [];
  let runs = 0;
  let steps = 0;
  let acked = 0;
  let switched = 0;
  try {
    for (const seed of seeds) {
      const result = await pool.run(seed, (options.config ?? configFor)(seed));
      runs += 1;
      steps += result.steps;
      acked += result.acked;
      switched += result.switched;
      if (result.violations.length > 0) {
        failures.push(result);
        if (failures.length >= (options.stopAfter ?? Infinity)) break;
      }
    }
  } finally {
    if (options.pool === undefined) await pool.close();
  }
  return { failures, runs, steps, acked, switched };
}

/** A failing seed as a person reads it: what broke, how to replay it, and the steps before. */
export function formatFailure(result: SimResult, lines = 80): string {
  return [
    `seed ${result.seed} failed after ${result.steps} steps: ${result.violations.join('; ')}`,
    `replay: EFS_SIM_SEED=${result.seed} pnpm exec vitest run tests/integration/nfs-sim.test.ts`,
    ...result.trace.slice(-lines),
  ].join('\n');
}
