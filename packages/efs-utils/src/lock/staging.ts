import { basename, dirname } from 'node:path';
import { errorCode } from '../fs-helpers.js';
import { platform } from '../platform.js';
import type { LockMode } from '../types.js';
import { monotonicMs } from './clock.js';
import { EXCLUSIVE_PREFIX, SHARED_DIR, leaseName, type LockLayout } from './layout.js';

/**
 * A would-be holder's private directory, holding its lease entry, ready to be renamed onto
 * the lock directory. An exclusive holder renames the lock directory back to its staging
 * name on release and reuses it next time: two renames per lock instead of creating and
 * removing two directories (mkdir/rmdir cost ~10× a rename on ext4, and round trips on NFS).
 *
 * A recycled directory can still be reached as `content.lock` by a client whose lookup cache
 * is stale, and a waiter there may watch our entry's name in it. So the entry gets a name it
 * never had right before **every** attempt to acquire, and the lease counts its age from that
 * rename: a waiter cannot have seen the name for longer than the lease has existed (F2).
 */
export class Staging {
  readonly dir: string;
  readonly token: string;
  readonly mode: LockMode;
  #seq = 0;

  private constructor(dir: string, token: string, mode: LockMode) {
    this.dir = dir;
    this.token = token;
    this.mode = mode;
  }

  static create(layout: LockLayout, mode: LockMode): Staging {
    sweepNowAndThen(layout);
    const token = platform.token();
    const staging = new Staging(layout.stagingDir(token), token, mode);
    try {
      createOwn(() => platform.fs.mkdirSync(staging.dir));
      if (mode === 'shared') createOwn(() => platform.fs.mkdirSync(`${staging.dir}/${SHARED_DIR}`));
      createOwn(() => platform.fs.symlinkSync(platform.owner, staging.stagedEntryPath));
    } catch (error) {
      staging.remove();
      throw error;
    }
    return staging;
  }

  get seq(): number {
    return this.#seq;
  }

  /** The entry's name inside the lock directory (or its shared/ directory). */
  get entryName(): string {
    const name = leaseName(this.token, this.#seq);
    return this.mode === 'exclusive' ? `${EXCLUSIVE_PREFIX}${name}` : name;
  }

  /** Renames the staged entry to a name it never had; ENOENT when the sweep took the directory. */
  bump(): void {
    const from = this.stagedEntryPath;
    this.#seq += 1;
    try {
      platform.fs.renameSync(from, this.stagedEntryPath);
    } catch (error) {
      // Our rename happened and its reply was lost: the new name is there.
      if (errorCode(error) !== 'ENOENT' || !exists(this.stagedEntryPath)) throw error;
    }
  }

  /** Records a rename of the entry done while it sat in the lock directory. */
  renamedTo(seq: number): void {
    this.#seq = seq;
  }

  get stagedEntryPath(): string {
    return this.mode === 'exclusive' ? `${this.dir}/${this.entryName}` : `${this.dir}/${SHARED_DIR}/${this.entryName}`;
  }

  remove(): void {
    try {
      platform.fs.rmSync(this.dir, { recursive: true, force: true });
    } catch {
      // Left for the sweep; never worth failing a lock operation for.
    }
  }
}

function exists(path: string): boolean {
  try {
    platform.fs.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Reusable exclusive staging directories of this process, one per lock directory. */
export class StagingPool {
  readonly #idle = new Map<string, Staging>();

  take(layout: LockLayout): Staging {
    const staging = this.#idle.get(layout.lockDir);
    if (staging === undefined) return Staging.create(layout, 'exclusive');
    this.#idle.delete(layout.lockDir);
    return staging;
  }

  put(layout: LockLayout, staging: Staging): void {
    this.#idle.set(layout.lockDir, staging);
  }
}

/**
 * mkdir/symlink of a name only this process uses: EEXIST can only mean that our own request
 * executed and its reply was lost, so the retransmission found it done (EFS keeps no reply cache).
 */
function createOwn(create: () => void): void {
  try {
    create();
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
}

const ABANDONED_AFTER_MS = 10 * 60_000;
const BLOCKER_KEPT_MS = 24 * 60 * 60_000;
const lastSweep = new Map<string, number>();

/** At most once per lock path and process per ten minutes: the hot path lists nothing. */
function sweepNowAndThen(layout: LockLayout): void {
  const now = monotonicMs();
  const last = lastSweep.get(layout.lockDir);
  if (last !== undefined && now - last < ABANDONED_AFTER_MS) return;
  lastSweep.set(layout.lockDir, now);
  removeAbandonedStaging(layout);
}

/**
 * Processes that die leave their staging directory behind (Lambda environments are killed,
 * not shut down). Removing one that is still in use is harmless: it is renamed away
 * atomically, and its owner's acquiring rename then fails with ENOENT and makes a new one.
 * That is also why comparing the file system's mtime with this host's clock is acceptable
 * here, and nowhere else.
 */
function removeAbandonedStaging(layout: LockLayout): void {
  const parent = dirname(layout.target);
  const prefix = `.${basename(layout.target)}.lock.`;
  let names: string[];
  try {
    names = platform.fs.readdirSync(parent);
  } catch {
    return;
  }
  const now = platform.wallMs();
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      const stats = platform.fs.lstatSync(`${parent}/${name}`);
      // A symlink is a fence's release blocker (see fence.ts): kept long after any retransmission gave up.
      if (stats.mtimeMs > now - (stats.isSymbolicLink() ? BLOCKER_KEPT_MS : ABANDONED_AFTER_MS)) continue;
      const trash = layout.trashPath(platform.token());
      platform.fs.renameSync(`${parent}/${name}`, trash);
      platform.fs.rmSync(trash, { recursive: true, force: true });
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') return;
    }
  }
}
