import { InvalidArgumentError, LockTimeoutError } from '../errors.js';
import { platform } from '../platform.js';
import type { LockMode } from '../types.js';
import { errorCode } from '../fs-helpers.js';
import { monotonicMs, sleep } from './clock.js';
import { DRAINING_DIR, SHARED_DIR, type LockLayout } from './layout.js';
import { Lease, removeEmptyDir } from './lease.js';
import { Staging, StagingPool } from './staging.js';

export interface AcquireRequest {
  readonly layout: LockLayout;
  readonly mode: LockMode;
  readonly timeoutMs: number;
  readonly staleMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly onRelease: () => void;
}

const FIRST_DELAY_MS = 1;
const MAX_DELAY_MS = 16;

const exclusiveStaging = new StagingPool();

/**
 * Acquires a lease by renaming a staging directory, which already holds the lease entry,
 * onto the lock directory. rename(2) onto a directory fails when the destination is not
 * empty and succeeds when it is absent or empty, so exactly one contender wins, and the
 * lock directory never exists without its owner's entry in it (no window in which a
 * crash leaves an ownerless lock to guess about).
 *
 * Shared holders that find a shared lock join it by renaming their entry into its
 * `shared/` directory, which fails with ENOENT when the lock is exclusive.
 *
 * An exclusive contender blocked by shared holders **reserves the next turn**: it renames
 * `shared/` to `draining/` (only one contender's rename succeeds) and puts its own entry next
 * to it. Current holders keep their leases (they find them in `draining/`); newcomers can
 * neither join nor take the directory; when the last holder leaves it removes `draining/`,
 * and the reserving contender, which keeps renewing its entry meanwhile, holds the lock.
 * Without this, overlapping readers could keep a writer out forever.
 */
export async function acquire(request: AcquireRequest): Promise<Lease> {
  const { layout, mode, timeoutMs, staleMs, signal } = request;
  let staging = takeStaging(layout, mode);
  const deadline = monotonicMs() + timeoutMs;
  const staleness = new StalenessTracker(staleMs);
  const observeEveryMs = Math.min(Math.max(staleMs / 8, 5), 500);
  let lastObservedAt = -Infinity;
  let delayMs = FIRST_DELAY_MS;
  let reserveNow = mode === 'exclusive';
  const leaseFor = (visibleSince: number, pool: StagingPool | undefined): Lease =>
    new Lease({ layout, staging, staleMs, visibleSince, pool, onRelease: request.onRelease });

  try {
    for (;;) {
      const attemptStartedAt = monotonicMs();
      const taken = tryTake(layout, staging);
      if (taken === 'staging-gone') {
        staging = Staging.create(layout, mode);
        continue;
      }
      if (taken === 'taken') return leaseFor(attemptStartedAt, mode === 'exclusive' ? exclusiveStaging : undefined);
      if (reserveNow) {
        reserveNow = false;
        const reservedAt = monotonicMs();
        if (reserveAfterShared(layout, staging)) {
          // Until draining/ is gone the lock directory is not ours alone: no staging reuse yet.
          const lease = leaseFor(reservedAt, undefined);
          await waitForDrain(layout, lease, deadline, timeoutMs, staleness, signal);
          lease.reuseStagingOnRelease(exclusiveStaging);
          return lease;
        }
      }
      const now = monotonicMs();
      if (now - lastObservedAt >= observeEveryMs) {
        lastObservedAt = now;
        reserveNow = mode === 'exclusive';
        if (observeAndReap(layout, mode, staleness, undefined)) continue;
      }
      if (now >= deadline) throw new LockTimeoutError(layout.target, timeoutMs);
      // Randomized, capped backoff: contenders spread out and none waits long for a free lock.
      const wait = Math.min(delayMs * (0.5 + platform.random() * 0.5), deadline - now);
      delayMs = Math.min(delayMs * 2, MAX_DELAY_MS);
      await sleep(Math.max(wait, 0), signal);
    }
  } catch (error) {
    if (mode === 'exclusive') exclusiveStaging.put(layout, staging);
    else staging.remove();
    throw error;
  }
}

/**
 * Closes a shared lock to newcomers and places our exclusive entry beside the draining
 * holders. False when the lock is not shared (or another contender reserved it first).
 */
function reserveAfterShared(layout: LockLayout, staging: Staging): boolean {
  try {
    platform.fs.renameSync(layout.sharedDir, layout.drainingDir);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST') return false;
    throw error;
  }
  platform.fs.renameSync(staging.stagedEntryPath, `${layout.lockDir}/${staging.entryName}`);
  return true;
}

/** Waits, renewing the reserved lease, until the draining holders are gone. */
async function waitForDrain(
  layout: LockLayout,
  lease: Lease,
  deadline: number,
  timeoutMs: number,
  staleness: StalenessTracker,
  signal: AbortSignal | undefined,
): Promise<void> {
  let delayMs = FIRST_DELAY_MS;
  try {
    for (;;) {
      // rmdir succeeds only on an empty directory: exactly when the last holder has left.
      if (removeEmptyDir(layout.drainingDir) || !existsAsDir(layout.drainingDir)) return;
      lease.assertHeldSync(); // we were stalled past our own lease: someone reaped it
      const now = monotonicMs();
      if (now >= deadline) throw new LockTimeoutError(layout.target, timeoutMs);
      observeAndReap(layout, 'exclusive', staleness, lease.entryName);
      const wait = Math.min(delayMs * (0.5 + platform.random() * 0.5), deadline - now);
      delayMs = Math.min(delayMs * 2, MAX_DELAY_MS);
      await sleep(Math.max(wait, 0), signal);
    }
  } catch (error) {
    await lease.release();
    throw error;
  }
}

function existsAsDir(path: string): boolean {
  try {
    platform.fs.readdirSync(path);
    return true;
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return false;
    throw error;
  }
}

function takeStaging(layout: LockLayout, mode: LockMode): Staging {
  if (mode === 'shared') return Staging.create(layout, 'shared');
  const staging = exclusiveStaging.take(layout);
  try {
    staging.bump();
    return staging;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
    return Staging.create(layout, 'exclusive'); // swept by another process while idle
  }
}

type TakeResult = 'taken' | 'busy' | 'staging-gone';

function tryTake(layout: LockLayout, staging: Staging): TakeResult {
  try {
    platform.fs.renameSync(staging.dir, layout.lockDir);
    return 'taken';
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return 'staging-gone';
    if (code === 'ENOTDIR') {
      throw new InvalidArgumentError(
        `${layout.lockDir} exists and is not a directory, so it is not a lock made by efs-utils or proper-lockfile. ` +
          'Remove it if no process uses it.',
        { cause: error },
      );
    }
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  if (staging.mode === 'exclusive') return 'busy';
  try {
    platform.fs.renameSync(staging.stagedEntryPath, `${layout.sharedDir}/${staging.entryName}`);
  } catch (error) {
    // ENOENT: the lock is exclusive (no shared/ directory), or was just released.
    if (errorCode(error) === 'ENOENT') return 'busy';
    throw error;
  }
  platform.fs.rmdirSync(`${staging.dir}/${SHARED_DIR}`);
  platform.fs.rmdirSync(staging.dir);
  return 'taken';
}

/**
 * Lists the lock directory and reaps every entry that blocks us and has kept the same name
 * for `staleMs` on our clock. Returns true when the lock's state changed (retry at once).
 *
 * The listing may be stale (NFS caches directory pages); that is harmless, because reaping
 * is a rename of the exact name we saw: a lease renewed since then has another name, so
 * the rename fails with ENOENT and nothing is taken from a live holder. Of several waiters
 * reaping the same entry, exactly one rename succeeds.
 */
function observeAndReap(
  layout: LockLayout,
  mode: LockMode,
  staleness: StalenessTracker,
  ownEntry: string | undefined,
): boolean {
  let names: string[];
  try {
    names = platform.fs.readdirSync(layout.lockDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return true;
    throw error;
  }
  if (names.length === 0) return true;

  const blocking: string[] = [];
  for (const name of names) {
    if (name === ownEntry) continue;
    if (name !== SHARED_DIR && name !== DRAINING_DIR) {
      blocking.push(name);
      continue;
    }
    // Open shared leases don't block a shared contender: it joins them.
    if (name === SHARED_DIR && mode === 'shared') continue;
    const container = `${layout.lockDir}/${name}`;
    const holders = listDir(container);
    // An empty container has no holder (its last one died before removing it).
    if (holders.length === 0) {
      removeEmptyDir(container);
      return ownEntry === undefined;
    }
    for (const holder of holders) blocking.push(`${name}/${holder}`);
  }

  let reaped = false;
  for (const name of staleness.stale(blocking)) {
    reaped = reap(layout, name) || reaped;
  }
  if (reaped) {
    removeEmptyDir(layout.drainingDir);
    if (mode === 'exclusive') removeEmptyDir(layout.sharedDir);
  }
  return reaped;
}


function reap(layout: LockLayout, name: string): boolean {
  const trash = layout.trashPath(platform.token());
  try {
    platform.fs.renameSync(`${layout.lockDir}/${name}`, trash);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
  platform.fs.rmSync(trash, { recursive: true, force: true });
  return true;
}

function listDir(path: string): string[] {
  try {
    return platform.fs.readdirSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return [];
    throw error;
  }
}

/** Remembers when each name was first seen; a name seen for `staleMs` is stale. */
class StalenessTracker {
  readonly #staleMs: number;
  #firstSeen = new Map<string, number>();

  constructor(staleMs: number) {
    this.#staleMs = staleMs;
  }

  stale(names: readonly string[]): string[] {
    const now = monotonicMs();
    const next = new Map<string, number>();
    const stale: string[] = [];
    for (const name of names) {
      const since = this.#firstSeen.get(name) ?? now;
      next.set(name, since);
      if (now - since >= this.#staleMs) stale.push(name);
    }
    this.#firstSeen = next;
    return stale;
  }
}
