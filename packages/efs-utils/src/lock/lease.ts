import { LockCompromisedError } from '../errors.js';
import { platform } from '../platform.js';
import type { Lock, LockMode } from '../types.js';
import { errorCode } from '../fs-helpers.js';
import { monotonicMs } from './clock.js';
import { EXCLUSIVE_PREFIX, leaseName, type LockLayout } from './layout.js';
import type { Staging, StagingPool } from './staging.js';

type LeaseState = 'held' | 'lost' | 'released';

export interface LeaseInit {
  readonly layout: LockLayout;
  readonly staging: Staging;
  readonly staleMs: number;
  /** Monotonic time taken just before the rename that made this lease visible. */
  readonly visibleSince: number;
  /** Where an exclusive lease returns its staging directory on release, for reuse. */
  readonly pool: StagingPool | undefined;
  readonly onRelease: () => void;
}

/**
 * A held lease. Its entry's name ends in a sequence number; renewing renames it to the
 * next number. That rename is a compare-and-swap on the name: it fails with ENOENT once a
 * waiter has reaped the entry, which is how a holder learns it lost the lease.
 *
 * Validity, on this process's monotonic clock: a waiter may reap an entry only after it
 * has seen the same name for `staleMs` on its own clock, and it cannot see a name before
 * the rename that created it. So the lease is safe until `visibleSince + staleMs`, where
 * `visibleSince` is taken before the latest successful rename. The lease trusts only the
 * first half of that, to leave room for clock-rate differences and for the gap between a
 * check and the caller's commit; past it, a check renews first.
 */
export class Lease implements Lock {
  readonly path: string;
  readonly mode: LockMode;
  readonly #layout: LockLayout;
  readonly #staging: Staging;
  #pool: StagingPool | undefined;
  readonly #staleMs: number;
  readonly #onRelease: () => void;
  readonly #renewTimer: unknown;
  #seq: number;
  /** Where a shared lease lives: shared/, or draining/ once an exclusive waiter closed it. */
  #container: string;
  #visibleSince: number;
  #state: LeaseState = 'held';
  #lostReason = '';
  #lostCause: unknown;

  constructor(init: LeaseInit) {
    this.path = init.layout.target;
    this.mode = init.staging.mode;
    this.#layout = init.layout;
    this.#staging = init.staging;
    this.#pool = init.pool;
    this.#seq = init.staging.seq;
    this.#container = init.layout.sharedDir;
    this.#staleMs = init.staleMs;
    this.#visibleSince = init.visibleSince;
    this.#onRelease = init.onRelease;
    // Renew four times per stale period: one missed renewal never costs the lease.
    this.#renewTimer = platform.setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#staleMs / 4)));
  }

  /** The entry's current name in the lock directory (exclusive leases). */
  get entryName(): string {
    return `${EXCLUSIVE_PREFIX}${leaseName(this.#staging.token, this.#seq)}`;
  }

  /** From now on, release may move the lock directory back to the staging directory. */
  reuseStagingOnRelease(pool: StagingPool): void {
    this.#pool = pool;
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  async assertHeld(): Promise<void> {
    this.assertHeldSync();
  }

  /** Synchronous form for the write helpers: no event-loop turn between check and commit. */
  assertHeldSync(): void {
    if (this.#state === 'held' && !this.#fresh()) this.#renew();
    if (this.#state === 'released') {
      throw new LockCompromisedError(this.path, 'it was already released');
    }
    if (this.#state === 'lost') {
      throw new LockCompromisedError(this.path, this.#lostReason, { cause: this.#lostCause });
    }
    if (!this.#fresh()) {
      throw new LockCompromisedError(this.path, 'its lease could not be renewed in time', { cause: this.#lostCause });
    }
  }

  async release(): Promise<void> {
    if (this.#state === 'released') return;
    platform.clearInterval(this.#renewTimer);
    try {
      if (this.#state === 'held') this.#removeEntry();
    } finally {
      this.#state = 'released';
      this.#onRelease();
    }
  }

  #removeEntry(): void {
    // An exclusive holder moves the lock directory back to its staging name for reuse,
    // once it knows the directory is still its own: a fresh lease, or one just renewed.
    if (this.mode === 'exclusive' && this.#pool && (this.#fresh() || this.#renewEntry())) {
      try {
        platform.fs.renameSync(this.#layout.lockDir, this.#staging.dir);
        this.#staging.renamedTo(this.#seq);
        this.#pool.put(this.#layout, this.#staging);
        return;
      } catch {
        // Fall through: remove the entry by its own name, which is always safe.
      }
    }
    if (!this.#onEntry((entry) => platform.fs.unlinkSync(entry))) return; // reaped: nothing here is ours
    if (this.mode === 'shared' && !removeEmptyDir(this.#container)) return;
    removeEmptyDir(this.#layout.lockDir);
  }

  #fresh(): boolean {
    return monotonicMs() - this.#visibleSince < this.#staleMs / 2;
  }

  #renew(): void {
    if (this.#state === 'held') this.#renewEntry();
  }

  /** Renames the entry to its next name; false when that failed (and why is recorded). */
  #renewEntry(): boolean {
    const startedAt = monotonicMs();
    try {
      const renamed = this.#onEntry((entry) => platform.fs.renameSync(entry, this.#entryPath(this.#seq + 1)));
      if (!renamed) {
        this.#state = 'lost';
        platform.clearInterval(this.#renewTimer);
        this.#lostReason = `another process took it over after seeing it unrenewed for ${this.#staleMs} ms`;
        return false;
      }
      this.#seq += 1;
      this.#visibleSince = startedAt;
      return true;
    } catch (error) {
      // EIO, ETIMEDOUT on NFS… may pass: the next tick retries, and assertHeld()
      // refuses once the lease is too old to trust.
      this.#lostCause = error;
      return false;
    }
  }

  /**
   * Applies `operation` to the entry by its exact name; false when the entry is gone
   * (reaped). A shared entry whose shared/ was closed by an exclusive waiter is found in
   * draining/, and stays there.
   */
  #onEntry(operation: (entry: string) => void): boolean {
    try {
      operation(this.#entryPath(this.#seq));
      return true;
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
    if (this.mode === 'exclusive' || this.#container === this.#layout.drainingDir) return false;
    this.#container = this.#layout.drainingDir;
    return this.#onEntry(operation);
  }

  #entryPath(seq: number): string {
    const name = leaseName(this.#staging.token, seq);
    return this.mode === 'exclusive' ? `${this.#layout.lockDir}/${EXCLUSIVE_PREFIX}${name}` : `${this.#container}/${name}`;
  }
}

/** rmdir that only succeeds on an empty directory; false when it is not empty or gone. */
export function removeEmptyDir(path: string): boolean {
  try {
    platform.fs.rmdirSync(path);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT' || code === 'EBUSY') return false;
    throw error;
  }
}
