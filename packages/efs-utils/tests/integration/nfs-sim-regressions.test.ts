import { afterAll, describe, expect, it } from 'vitest';
import { formatFailure, runSeeds } from '../sim/run-seeds.js';
import { profileConfig, SimPool, type Profile } from '../sim/world.js';

/**
 * Seeds of the NFS simulation that broke the lock protocol before the fix of issue 12, one group
 * per finding. Each failed with the protocol as of commit e29bfea (run with
 * EFS_SIM_LIB=<a build of that protocol> to see it) and must hold every invariant now.
 */
const pool = new SimPool();
afterAll(() => pool.close());

async function expectHolds(profile: Profile, seeds: number[]): Promise<void> {
  const report = await runSeeds(seeds, { pool, config: (seed) => profileConfig(profile, seed) });
  const text = report.failures.map((failure) => formatFailure(failure)).join('\n\n');
  if (text) console.log(`profile ${profile}:\n${text}`);
  expect(report.failures.map((failure) => `${failure.seed}: ${failure.violations.join('; ')}`)).toEqual([]);
}

describe('regressions found by the NFS simulation (issue 12)', () => {
  it('F1: a writer reserving after readers never lands in another lock, and lock() fails only with its own errors', async () => {
    await expectHolds('F1', [184]);
  });

  it('F2: a waiter whose cached lookup of the lock directory is stale never reaps in a recycled directory', async () => {
    await expectHolds('F2', [35, 89]);
  });

  it('F4: a holder frozen with its monotonic clock stopped does not commit after a takeover', async () => {
    await expectHolds('F4', [22, 47]);
  });

  it('F5: lost replies of mkdir, symlink and rename neither fail lock() nor orphan an entry', async () => {
    await expectHolds('F5', [2, 4]);
  });

  it('F3: a holder whose requests are delayed past its lease does not report success', async () => {
    await expectHolds('F3', [64, 65, 67]);
  });
});
