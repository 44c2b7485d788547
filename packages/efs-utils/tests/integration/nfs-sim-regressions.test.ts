import { afterAll, describe, expect, it } from 'vitest';
import { formatFailure, runSeeds } from '../sim/run-seeds.js';
import { profileConfig, SimPool, type Profile } from '../sim/world.js';

/**
 * Seeds of the NFS simulation that broke the lock protocol, one group per finding. Each failed
 * with the protocol of the commit named (run with EFS_SIM_LIB=<a build of that protocol> to see
 * it) and must hold every invariant now. F1–F5: before the fix of issue 12 (commit e29bfea).
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

describe('regressions found by the NFS simulation (after 0.1)', () => {
  // Failed with the protocol as of commit bba7b19, whose waiters watched a shared entry by its
  // path: the writer's reservation it sits in is renamed on every renewal, so a dead reader's
  // entry never looked stale and the writer timed out. 3, 4: the writer asks after the kill;
  // 5, 7, 13: it already waits (its reservation holds the reader's entry) when the reader dies.
  it('F7: a writer waiting behind a reader that was killed gets the lock once that lease expires', async () => {
    await expectHolds('F7', [3, 4, 5, 7, 13]);
  });
});

describe('regressions found by the NFS simulation (the fenced takeover)', () => {
  // Failed with the protocol as of commit 8c70a54, which only refused to report a late commit
  // as success: the late WRITE itself still overwrote the next holder's acknowledged line (50,
  // 112), a late atomic rename replaced a newer version (98), and a waiter's delayed entry
  // rename made lock() fail with a raw ENOENT. A taker-over now fences the old holder.
  it('F3: a WRITE or rename delivered after a takeover changes nothing acknowledged', async () => {
    await expectHolds('F3', [50, 98, 112]);
  });

  // The same with processes stopped between a commit's last check and its write (a SIGSTOP, a
  // debugger): 128, 252 lost an acknowledged line, 13 an acknowledged version; 219 a raw ENOENT.
  it('F4: a process stopped between its check and its write changes nothing acknowledged', async () => {
    await expectHolds('F4', [13, 128, 219, 252]);
  });

  // Found while building the fence: it copied the file while a writer got in through the shared/
  // that a dead writer's reopened reservation left next to its stale entry, and the copy then
  // replaced that writer's acknowledged line. Such an entry (next to shared/ or a reservation)
  // never committed anything: it is reaped without a fence.
  // The release switch under current's lock (switchSymlink with { lock }), fenced like an atomic
  // write: with 8c70a54 a switch delivered late pointed current back at an older release.
  it('a release switch delivered late never points current back at an older release', async () => {
    await expectHolds('releases', [13, 244, 319, 409]);
  });

  it('a fence never runs while a writer can get in through shared/', async () => {
    await expectHolds('random', [260]);
  });
});
