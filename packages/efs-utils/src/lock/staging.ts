import { basename, dirname } from 'node:path';
import { platform } from '../platform.js';
import type { LockMode } from '../types.js';
import { errorCode } from '../fs-helpers.js';
import { EXCLUSIVE_PREFIX, SHARED_DIR, leaseName, type LockLayout } from './layout.js';

/**
 * A would-be holder's private directory, holding its lease entry, ready to be renamed onto
 * the lock directory. An exclusive holder renames the lock directory back to its staging
 * name on release and reuses it next time: two renames per lock instead of creating and
 * removing two directories (which costs ~10× more on ext4 and two more round trips on NFS).
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
    const token = platform.token();
    const staging = new Staging(layout.stagingDir(token), token, mode);
    platform.fs.mkdirSync(staging.dir);
    try {
      if (mode === 'shared') platform.fs.mkdirSync(`${staging.dir}/${SHARED_DIR}`);
      platform.fs.symlinkSync(platform.owner, staging.stagedEntryPath);
    } catch (error) {
      platform.fs.rmSync(staging.dir, { recursive: true, force: true });
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

  get stagedEntryPath(): string {
    return this.mode === 'exclusive' ? `${this.dir}/${this.entryName}` : `${this.dir}/${SHARED_DIR}/${this.entryName}`;
  }

  /**
   * Gives the entry a name it never had: a waiter that saw an earlier name in the lock
   * directory must not count this lease's age from then.
   */
  bump(): void {
    const from = this.stagedEntryPath;
    this.#seq += 1;
    platform.fs.renameSync(from, this.stagedEntryPath);
  }

  /** Records a rename of the entry done while it sat in the lock directory. */
  renamedTo(seq: number): void {
    this.#seq = seq;
  }

  remove(): void {
    platform.fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Reusable exclusive staging directories of this process, one per lock directory. */
export class StagingPool {
  readonly #idle = new Map<string, Staging>();

  take(layout: LockLayout): Staging {
    const staging = this.#idle.get(layout.lockDir);
    if (staging) {
      this.#idle.delete(layout.lockDir);
      return staging;
    }
    removeAbandonedStaging(layout);
    return Staging.create(layout, 'exclusive');
  }

  put(layout: LockLayout, staging: Staging): void {
    this.#idle.set(layout.lockDir, staging);
  }
}

const ABANDONED_AFTER_MS = 10 * 60_000;

/**
 * Processes that die leave their idle staging directory behind (Lambda environments are
 * killed, not shut down). Whoever creates a staging directory sweeps old ones first.
 * Removing one that is still in use is harmless: it is renamed away atomically, and its
 * owner's next rename fails with ENOENT and makes a new one. That is also why comparing
 * the file system's mtime with this host's clock is acceptable here, and nowhere else.
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
  const cutoff = platform.wallMs() - ABANDONED_AFTER_MS;
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      if (platform.fs.lstatSync(`${parent}/${name}`).mtimeMs > cutoff) continue;
      const trash = layout.trashPath(platform.token());
      platform.fs.renameSync(`${parent}/${name}`, trash);
      platform.fs.rmSync(trash, { recursive: true, force: true });
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') return;
    }
  }
}
