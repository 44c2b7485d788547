import { LockCompromisedError } from '../errors.js';
import { errorCode } from '../fs-helpers.js';
import { platform } from '../platform.js';
import type { Lock, LockMode } from '../types.js';
import { monotonicMs } from './clock.js';
import { EXCLUSIVE_PREFIX, RESERVED_PREFIX, leaseName, type LockLayout } from './layout.js';
import type { Staging, StagingPool } from './staging.js';

type LeaseState = 'held' | 'lost' | 'released';

export interface LeaseInit {
  readonly layout: LockLayout;
  /** The staging directory the entry came from (its token and sequence number). */
  readonly staging: Staging;
  readonly mode: LockMode;
  /** Where an exclusive lease returns the lock directory, as its next staging directory, on release. */
  readonly pool: StagingPool | undefined;
  readonly staleMs: number;
  /** Monotonic and wall-clock time taken just before the rename that made this lease visible. */
  readonly visibleSince: number;
  readonly visibleSinceWall: number;
  readonly onRelease: () => void;
}

/**
 * A held lease. Its entry's name ends in a sequence number; renewing renames it to the
 * next number. That rename is a compare-and-swap on the name: it fails with ENOENT once a
 * waiter has reaped the entry, which is how a holder learns it lost the lease.
 *
 * Validity: a waiter may reap an entry only after it has seen the same name for `staleMs` on
 * its own clock, and it cannot see a name before the rename that created it. So the lease is
 * safe until `staleMs` after the latest successful rename. The holder trusts only the first
 * half of that, measured on **both** its monotonic clock and its wall clock: a frozen process's
 * monotonic clock stops (Lambda freezes environments between invocations), its wall clock does
 * not, so a thawed holder sees the time that passed and renews before it commits (F4).
 *
 * Release: while the lease is fresh, an exclusive holder renames the lock directory back to
 * its staging name for reuse; otherwise (and for shared holders) it releases by name: unlinks
 * its own entry and removes the lock directory only if it is empty, so a release after a lost
 * lease cannot take away somebody else's lock.
 */
export class Lease implements Lock {
  readonly path: string;
  readonly mode: LockMode;
  readonly #layout: LockLayout;
  readonly #token: string;
  readonly #staging: Staging;
  /** Set when release may recycle the lock directory as our next staging directory. */
  pool: StagingPool | undefined;
  readonly #staleMs: number;
  readonly #renewTimer: unknown;
  #seq: number;
  /** The directory holding the entry: the lock directory, its shared/, or a writer's d.* after it closed shared/. */
  #container: string;
  #visibleSince: number;
  #visibleSinceWall: number;
  #state: LeaseState = 'held';
  /** Called once on release (hands the in-process turn on); set when a reservation becomes a hold. */
  onRelease: () => void;
  #lostReason = '';
  #lostCause: unknown;

  constructor(init: LeaseInit) {
    this.path = init.layout.target;
    this.mode = init.mode;
    this.#layout = init.layout;
    this.#token = init.staging.token;
    this.#staging = init.staging;
    this.#seq = init.staging.seq;
    this.pool = init.pool;
    this.#container = init.mode === 'exclusive' ? init.layout.lockDir : init.layout.sharedDir;
    this.#staleMs = init.staleMs;
    this.#visibleSince = init.visibleSince;
    this.#visibleSinceWall = init.visibleSinceWall;
    this.onRelease = init.onRelease;
    // Renew four times per stale period: one missed renewal never costs the lease.
    this.#renewTimer = platform.setInterval(() => this.#renew(), Math.max(1, Math.floor(this.#staleMs / 4)));
  }

  /** The entry's current name in its directory. */
  get entryName(): string {
    const name = leaseName(this.#token, this.#seq);
    return this.mode === 'exclusive' ? `${EXCLUSIVE_PREFIX}${name}` : name;
  }

  get held(): boolean {
    return this.#state === 'held';
  }

  /** Where atomicWriteFile puts this holder's new content of the target: a name its taker-over removes (see fence.ts). */
  get commitTempPath(): string {
    return this.#layout.commitTempPath(this.#token);
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

  /**
   * After a commit whose requests took long (a retransmitted WRITE, a frozen process): the
   * commit counts only if the lease is still fresh or a renewal proves nobody reaped it in
   * the meantime. Otherwise the data may or may not be there, and the caller must not report
   * success (F3). Costs nothing while the lease is fresh.
   */
  confirmSync(what: string): void {
    if (this.#state === 'held' && this.#fresh()) return;
    if (this.#state === 'held' && this.#renewEntry()) return;
    throw new LockCompromisedError(this.path, `its lease may have been taken over while ${what}`, {
      cause: this.#lostCause,
      outcome: 'unknown',
    });
  }

  /** Renews now; false when the lease is lost. */
  renewNow(): boolean {
    return this.#state === 'held' && this.#renewEntry();
  }

  async release(): Promise<void> {
    this.releaseSync();
  }

  releaseSync(): void {
    if (this.#state === 'released') return;
    platform.clearInterval(this.#renewTimer);
    try {
      if (this.#state === 'held') this.#removeEntry();
    } finally {
      this.#state = 'released';
      this.onRelease();
    }
  }

  #removeEntry(): void {
    // The fast release: move the lock directory back to our staging name, to reuse it next
    // time. Only while the lease is fresh on both clocks: then nobody can have reaped it. A
    // rename that lands late anyway finds the blocker a taker-over put at that name (ENOTDIR,
    // see fence.ts) and we release by name below.
    if (this.mode === 'exclusive' && this.pool !== undefined && this.#fresh()) {
      const dir = this.#staging.dir;
      let moved = false;
      try {
        platform.fs.renameSync(this.#layout.lockDir, dir);
        moved = true;
      } catch (error) {
        const code = errorCode(error);
        // A lost reply: the retransmission found content.lock gone, and our entry is in our staging directory.
        moved = (code === 'ENOENT' || code === 'ESTALE') && lstatExists(`${dir}/${this.#name(this.#seq)}`);
      }
      if (moved) {
        this.#staging.renamedTo(this.#seq);
        this.pool.put(this.#layout, this.#staging);
        return;
      }
    }
    // ENOENT: reaped, or our own unlink's reply was lost and its retransmission found it gone.
    if (
      !this.#onEntry(
        (entry) => platform.fs.unlinkSync(entry),
        () => false,
      )
    )
      return;
    // Only the open shared/ is ours to remove (when empty); a writer's d.* is the writer's.
    if (this.mode === 'shared') removeEmptyDir(this.#layout.sharedDir);
    removeEmptyDir(this.#layout.lockDir);
  }

  #fresh(): boolean {
    const limit = this.#staleMs / 2;
    return monotonicMs() - this.#visibleSince < limit && platform.wallMs() - this.#visibleSinceWall < limit;
  }

  #renew(): void {
    if (this.#state === 'held') this.#renewEntry();
  }

  /** Renames the entry to its next name; false when that failed (and why is recorded). */
  #renewEntry(): boolean {
    const startedAt = monotonicMs();
    const startedAtWall = platform.wallMs();
    try {
      const next = this.#seq + 1;
      const renamed = this.#onEntry(
        (entry) => platform.fs.renameSync(entry, `${this.#container}/${this.#name(next)}`),
        // A lost reply: our rename happened and its retransmission found the old name gone.
        () => lstatExists(`${this.#container}/${this.#name(next)}`),
      );
      if (!renamed) {
        this.#state = 'lost';
        platform.clearInterval(this.#renewTimer);
        this.#lostReason = `another process took it over after seeing it unrenewed for ${this.#staleMs} ms`;
        return false;
      }
      this.#seq = next;
      this.#visibleSince = startedAt;
      this.#visibleSinceWall = startedAtWall;
      return true;
    } catch (error) {
      // EIO, ETIMEDOUT on NFS… may pass: the next tick retries, and assertHeld()
      // refuses once the lease is too old to trust.
      this.#lostCause = error;
      return false;
    }
  }

  #name(seq: number): string {
    const name = leaseName(this.#token, seq);
    return this.mode === 'exclusive' ? `${EXCLUSIVE_PREFIX}${name}` : name;
  }

  /**
   * Applies `operation` to the entry by its exact name; false when the entry is gone
   * (reaped). `alreadyDone` tells, after ENOENT, whether our own operation did happen (lost
   * reply). A shared entry whose shared/ a writer closed is found in the writer's d.* directory
   * (or back in shared/ after a dead writer's reservation was reopened).
   */
  #onEntry(operation: (entry: string) => void, alreadyDone: () => boolean): boolean {
    if (this.#tryOn(operation, alreadyDone)) return true;
    if (this.mode === 'exclusive') return false;
    const tried = this.#container;
    for (const container of [this.#layout.sharedDir, ...reservations(this.#layout)]) {
      if (container === tried) continue;
      this.#container = container;
      if (this.#tryOn(operation, alreadyDone)) return true;
    }
    return false;
  }

  #tryOn(operation: (entry: string) => void, alreadyDone: () => boolean): boolean {
    try {
      operation(`${this.#container}/${this.#name(this.#seq)}`);
      return true;
    } catch (error) {
      const code = errorCode(error);
      if (code !== 'ENOENT' && code !== 'ESTALE') throw error;
    }
    return alreadyDone();
  }
}

/** The writers' reservation directories (d.*) in the lock directory, as paths. */
function reservations(layout: LockLayout): string[] {
  try {
    return platform.fs
      .readdirSync(layout.lockDir)
      .filter((name) => name.startsWith(RESERVED_PREFIX))
      .map((name) => `${layout.lockDir}/${name}`);
  } catch {
    return [];
  }
}

/** A rename of one of our own names; a lost reply counts as done when the new name is there. */
export function renameOwn(from: string, to: string): boolean {
  try {
    platform.fs.renameSync(from, to);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'ENOENT' && code !== 'ESTALE') throw error;
    return lstatExists(to);
  }
}

export function lstatExists(path: string): boolean {
  try {
    platform.fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** rmdir that only succeeds on an empty directory; false when it is not empty or gone. */
export function removeEmptyDir(path: string): boolean {
  try {
    platform.fs.rmdirSync(path);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOTEMPTY' || code === 'EEXIST' || code === 'ENOENT' || code === 'EBUSY' || code === 'ESTALE') return false;
    throw error;
  }
}
