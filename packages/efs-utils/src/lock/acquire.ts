import { InvalidArgumentError, LockTimeoutError } from '../errors.js';
import { errorCode } from '../fs-helpers.js';
import { platform } from '../platform.js';
import type { LockMode } from '../types.js';
import { monotonicMs, sleep } from './clock.js';
import { reapAndFence } from './fence.js';
import { EXCLUSIVE_PREFIX, FENCE_PREFIX, RESERVED_PREFIX, SHARED_DIR, leaseName, type LockLayout } from './layout.js';
import { Lease, lstatExists, removeEmptyDir, renameOwn } from './lease.js';
import { Staging, StagingPool } from './staging.js';

export interface AcquireRequest {
  readonly layout: LockLayout;
  readonly mode: LockMode;
  readonly timeoutMs: number;
  readonly staleMs: number;
  readonly signal?: AbortSignal | undefined;
  readonly onRelease: () => void;
}

const exclusiveStaging = new StagingPool();

const FIRST_DELAY_MS = 1;
const MAX_DELAY_MS = 16;

/**
 * Acquires a lease by renaming a fresh staging directory, which already holds the lease entry,
 * onto the lock directory. rename(2) onto a directory fails when the destination is not
 * empty and succeeds when it is absent or empty, so exactly one contender wins, and the
 * lock directory never exists without its owner's entry in it (no window in which a
 * crash leaves an ownerless lock to guess about).
 *
 * Shared holders that find a shared lock join it by renaming their entry into its
 * `shared/` directory, which fails with ENOENT when the lock is exclusive or reserved.
 *
 * An exclusive contender blocked by shared holders **reserves the next turn** with one rename
 * inside the lock directory: `shared/` → `d.<token>.0`. That closes the lock to newcomers and
 * is the writer's reservation at once, so it cannot land in another lock (F1). While the
 * reservation is there the lock directory cannot be removed or replaced, so the writer's
 * exclusive entry, renamed in next, lands in the same lock. The writer holds the lock when its
 * rmdir of its (renewed) reservation succeeds, which is exactly when the last reader has left;
 * a reservation that was reaped meanwhile makes that rmdir fail, and the writer starts over.
 */
export async function acquire(request: AcquireRequest): Promise<Lease> {
  const { layout, mode, timeoutMs, staleMs, signal } = request;
  let staging = mode === 'exclusive' ? exclusiveStaging.take(layout) : Staging.create(layout, mode);
  const deadline = monotonicMs() + timeoutMs;
  const staleness = new StalenessTracker(staleMs);
  const observeEveryMs = Math.min(Math.max(staleMs / 8, 5), 500);
  let lastObservedAt = -Infinity;
  let delayMs = FIRST_DELAY_MS;
  let reserveNow = mode === 'exclusive';
  let done = false;

  try {
    for (;;) {
      const attemptStartedAt = monotonicMs();
      const attemptStartedAtWall = platform.wallMs();
      if (mode === 'exclusive') {
        // A name it never had, right before every attempt: see Staging.
        try {
          staging.bump();
        } catch (error) {
          // ENOENT: swept by another process while idle. ENOTDIR: our staging name is a fence's
          // blocker (our lease was taken over while we held it; see fence.ts).
          if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR') throw error;
          staging = Staging.create(layout, mode);
          continue;
        }
      }
      const taken = tryTake(layout, staging);
      if (taken === 'staging-gone') {
        staging = Staging.create(layout, mode);
        continue;
      }
      if (taken === 'taken') {
        done = true;
        return new Lease({
          layout,
          staging,
          mode,
          pool: mode === 'exclusive' ? exclusiveStaging : undefined,
          staleMs,
          visibleSince: attemptStartedAt,
          visibleSinceWall: attemptStartedAtWall,
          onRelease: request.onRelease,
        });
      }
      if (reserveNow) {
        reserveNow = false;
        const outcome = await reserveAndDrain(request, staging, deadline, staleness, attemptStartedAt, attemptStartedAtWall);
        if (outcome instanceof Lease) {
          done = true;
          return outcome;
        }
        if (outcome === 'staging-used') staging = Staging.create(layout, mode);
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
  } finally {
    if (!done) {
      if (mode === 'exclusive') exclusiveStaging.put(layout, staging);
      else staging.remove();
    }
  }
}

type TakeResult = 'taken' | 'busy' | 'staging-gone';

function tryTake(layout: LockLayout, staging: Staging): TakeResult {
  try {
    platform.fs.renameSync(staging.dir, layout.lockDir);
    return 'taken';
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') {
      // Our rename happened and its reply was lost, or the sweep removed our staging directory.
      const entry = staging.mode === 'exclusive' ? `${layout.lockDir}/${staging.entryName}` : `${layout.sharedDir}/${staging.entryName}`;
      return lstatExists(entry) ? 'taken' : 'staging-gone';
    }
    if (code === 'ENOTDIR' && !isDirectory(layout.lockDir)) {
      throw new InvalidArgumentError(
        `${layout.lockDir} exists and is not a directory, so it is not a lock made by efs-utils or proper-lockfile. ` +
          'Remove it if no process uses it.',
        { cause: error },
      );
    }
    if (code === 'ENOTDIR') return 'staging-gone'; // our staging name is a fence's blocker
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
  }
  if (staging.mode === 'exclusive') return 'busy';
  const joined = `${layout.sharedDir}/${staging.entryName}`;
  try {
    platform.fs.renameSync(staging.stagedEntryPath, joined);
  } catch (error) {
    // ENOENT: the lock is exclusive or reserved (no shared/), or was just released; or our
    // rename happened and its reply was lost.
    if (errorCode(error) !== 'ENOENT') throw error;
    if (lstatExists(joined)) return 'taken';
    return lstatExists(staging.stagedEntryPath) ? 'busy' : 'staging-gone';
  }
  removeEmptyDir(`${staging.dir}/${SHARED_DIR}`);
  removeEmptyDir(staging.dir);
  return 'taken';
}

/**
 * Closes a shared lock to newcomers with our reservation, puts our exclusive entry next to it,
 * and waits until the draining readers are gone. Returns the lease, or why not: 'not-shared'
 * (nothing reserved, staging unchanged) or 'staging-used' (our entry left the staging
 * directory; make a new one).
 */
async function reserveAndDrain(
  request: AcquireRequest,
  staging: Staging,
  deadline: number,
  staleness: StalenessTracker,
  visibleSince: number,
  visibleSinceWall: number,
): Promise<Lease | 'not-shared' | 'staging-used'> {
  const { layout, staleMs, timeoutMs, signal } = request;
  const reservation = (seq: number): string => `${layout.lockDir}/${RESERVED_PREFIX}${leaseName(staging.token, seq)}`;
  // The reservation is a lease: nobody reopens it before it has kept one name for staleMs, and
  // we trust the first half of that, on both clocks, as for any lease (see Lease).
  let reservedSince = monotonicMs();
  let reservedSinceWall = platform.wallMs();
  const reservationFresh = (): boolean =>
    monotonicMs() - reservedSince < staleMs / 2 && platform.wallMs() - reservedSinceWall < staleMs / 2;
  try {
    platform.fs.renameSync(layout.sharedDir, reservation(0));
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' && lstatExists(reservation(0))) {
      // Our rename happened; its reply was lost.
    } else if (code === 'ENOENT' || code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ESTALE') {
      return 'not-shared';
    } else throw error;
  }
  let seq = 0;
  let renewedAt = monotonicMs();
  const entry = `${layout.lockDir}/${staging.entryName}`;
  try {
    platform.fs.renameSync(staging.stagedEntryPath, entry);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') {
      reopen(layout, reservation(seq));
      throw error;
    }
    if (!lstatExists(entry)) {
      // Not a lost reply: the lock directory went away (our rename was delayed past our
      // reservation's lease, and it was reopened and released), or our staged entry did.
      reopen(layout, reservation(seq));
      return lstatExists(staging.stagedEntryPath) ? 'not-shared' : 'staging-used';
    }
  }
  removeEmptyDir(staging.dir);
  // No recycling of this lock directory until we hold it alone.
  const lease = new Lease({
    layout,
    staging,
    mode: 'exclusive',
    pool: undefined,
    staleMs,
    visibleSince,
    visibleSinceWall,
    onRelease: () => {},
  });
  let delayMs = FIRST_DELAY_MS;
  try {
    for (;;) {
      // rmdir succeeds only on an empty directory: exactly when the last reader has left. It
      // fails with ENOENT when our reservation was reopened (we were too slow to renew it), or
      // when our own rmdir executed and its reply was lost. If the reservation is still fresh
      // *after* the rmdir came back, the whole rmdir happened while nobody could reopen it, so
      // ENOENT can only mean the latter. (Judged before the call, a process preempted between
      // the judgement and the call took a reopened reservation for drained: two holders.)
      try {
        platform.fs.rmdirSync(reservation(seq));
        break;
      } catch (error) {
        const code = errorCode(error);
        if (code === 'ENOENT' && reservationFresh()) break;
        if (code === 'ENOENT' || code === 'ESTALE') {
          lease.releaseSync();
          return 'staging-used';
        }
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
      }
      if (!lease.held) return 'staging-used';
      const now = monotonicMs();
      if (now - renewedAt >= staleMs / 4) {
        const renewingSinceWall = platform.wallMs();
        if (!renameOwn(reservation(seq), reservation(seq + 1))) {
          lease.releaseSync();
          return 'staging-used';
        }
        seq += 1;
        renewedAt = now;
        reservedSince = now;
        reservedSinceWall = renewingSinceWall;
      }
      if (now >= deadline) {
        reopen(layout, reservation(seq));
        throw new LockTimeoutError(layout.target, timeoutMs);
      }
      observeAndReap(layout, 'exclusive', staleness, staging.token);
      const wait = Math.min(delayMs * (0.5 + platform.random() * 0.5), deadline - now);
      delayMs = Math.min(delayMs * 2, MAX_DELAY_MS);
      await sleep(Math.max(wait, 0), signal);
    }
  } catch (error) {
    lease.releaseSync();
    throw error;
  }
  // Drained. A renewal proves our entry was not reaped while we waited.
  if (!lease.renewNow()) {
    lease.releaseSync();
    return 'staging-used';
  }
  lease.onRelease = request.onRelease;
  lease.pool = exclusiveStaging;
  return lease;
}

/** Gives a reservation back to its readers (a writer that gives up, or a dead writer's). */
function reopen(layout: LockLayout, reservation: string): boolean {
  try {
    platform.fs.renameSync(reservation, layout.sharedDir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Lists the lock directory and reaps every entry that blocks us and has kept the same name
 * for `staleMs` on our clock. Returns true when the lock's state changed (retry at once).
 *
 * A lease is watched by its own name only, not by the directory it sits in: a shared holder's
 * entry moves from `shared/` into a writer's reservation, whose name the writer renews, and a
 * dead reader's entry must still look unchanged there (its holder is the one that renames it).
 *
 * The listing may be stale (NFS caches directory pages); that is harmless, because reaping
 * is a rename of the exact path we saw: a lease renewed since then has another name, and an
 * entry whose reservation was renamed since is elsewhere, so the rename fails with ENOENT and
 * nothing is taken from a live holder (we retry at the next listing). Of several waiters
 * reaping the same entry, exactly one rename succeeds. A dead writer's reservation is not
 * thrown away but reopened (renamed back to shared/), so its readers keep their leases.
 */
function observeAndReap(layout: LockLayout, mode: LockMode, staleness: StalenessTracker, ownToken: string | undefined): boolean {
  const own = (name: string): boolean => ownToken !== undefined && name.includes(ownToken);
  let names: string[];
  try {
    names = platform.fs.readdirSync(layout.lockDir);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ESTALE') return true;
    throw error;
  }
  if (names.length === 0) return true;

  /** Lease name → where this listing shows it (relative to the lock directory). */
  const blocking = new Map<string, { path: string; inside: boolean }>();
  let complete = true;
  for (const name of names) {
    const isShared = name === SHARED_DIR;
    const isReservation = name.startsWith(RESERVED_PREFIX);
    if (!isShared && !isReservation) {
      if (!own(name)) blocking.set(name, { path: name, inside: false });
      continue;
    }
    if (isReservation && !own(name)) blocking.set(name, { path: name, inside: false });
    // Open shared leases don't block a shared contender: it joins them.
    if (isShared && mode === 'shared') continue;
    const container = `${layout.lockDir}/${name}`;
    const holders = listDir(container);
    if (holders === undefined) {
      // Renamed (a writer renewed or reserved) or removed since the listing: what we saw of
      // its holders so far still counts.
      complete = false;
      continue;
    }
    if (holders.length === 0 && isShared) {
      // An empty shared/ has no holder (its last one died before removing it).
      removeEmptyDir(container);
      return ownToken === undefined;
    }
    for (const holder of holders) blocking.set(holder, { path: `${name}/${holder}`, inside: true });
  }

  let reaped = false;
  for (const name of staleness.stale(blocking, complete)) {
    const entry = blocking.get(name);
    if (entry === undefined) continue;
    reaped =
      (entry.inside
        ? reap(layout, entry.path)
        : name.startsWith(RESERVED_PREFIX)
          ? reopen(layout, `${layout.lockDir}/${name}`)
          : mayHaveCommitted(name, names)
            ? reapAndFence(layout, name)
            : reap(layout, name)) || reaped;
  }
  if (reaped && mode === 'exclusive') removeEmptyDir(layout.sharedDir);
  return reaped;
}

/**
 * Whether the stale entry `name` may belong to a holder with a commit on its way, so that its
 * takeover must be fenced: a fence marker (its fencer may be committing the copy), or an exclusive
 * entry in a listing without shared/ or a reservation. An exclusive entry next to those is a
 * writer still draining readers, which never committed under that name (it renames its entry once
 * drained), and fencing there would not even keep new holders out: they join shared/.
 */
function mayHaveCommitted(name: string, listing: readonly string[]): boolean {
  if (name.startsWith(FENCE_PREFIX)) return true;
  if (!name.startsWith(EXCLUSIVE_PREFIX)) return false;
  return !listing.some((entry) => entry === SHARED_DIR || entry.startsWith(RESERVED_PREFIX));
}

function reap(layout: LockLayout, name: string): boolean {
  const trash = layout.trashPath(platform.token());
  try {
    platform.fs.renameSync(`${layout.lockDir}/${name}`, trash);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ESTALE') return false;
    throw error;
  }
  try {
    platform.fs.rmSync(trash, { recursive: true, force: true });
  } catch {
    // Trash left behind is harmless.
  }
  return true;
}

function isDirectory(path: string): boolean {
  try {
    return platform.fs.lstatSync(path).isDirectory();
  } catch {
    return true; // gone: nothing there that is not a lock directory
  }
}

/** The names in a directory; undefined when it is gone. */
function listDir(path: string): string[] | undefined {
  try {
    return platform.fs.readdirSync(path);
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ESTALE') return undefined;
    throw error;
  }
}

/**
 * Remembers when each lease name was first seen; a name seen for `staleMs` is stale. A name
 * cannot be seen before the rename that created it, and its holder renames it away to renew,
 * so a name seen for `staleMs` belongs to a holder that stopped renewing at least that long ago.
 */
class StalenessTracker {
  readonly #staleMs: number;
  #firstSeen = new Map<string, { since: number; inside: boolean }>();

  constructor(staleMs: number) {
    this.#staleMs = staleMs;
  }

  /**
   * The names among `seen` seen for `staleMs`. Names missing from this listing are forgotten
   * (renewed or gone), except, after an incomplete listing, the shared holders' entries
   * (`inside` shared/ or a reservation): a reservation renamed under our listing must not
   * restart the watch of the entries in it. Keeping those is safe: a shared lease's token is
   * new for every lock, so its names are never reused, and reaping one that is gone fails.
   */
  stale(seen: ReadonlyMap<string, { inside: boolean }>, complete: boolean): string[] {
    const now = monotonicMs();
    const next = new Map<string, { since: number; inside: boolean }>();
    if (!complete) for (const [name, entry] of this.#firstSeen) if (entry.inside) next.set(name, entry);
    const stale: string[] = [];
    for (const [name, { inside }] of seen) {
      const since = this.#firstSeen.get(name)?.since ?? now;
      next.set(name, { since, inside });
      if (now - since >= this.#staleMs) stale.push(name);
    }
    this.#firstSeen = next;
    return stale;
  }
}
