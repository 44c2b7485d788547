import { basename, dirname } from 'node:path';
import { errorCode } from '../fs-helpers.js';
import { platform } from '../platform.js';
import type { LockMode } from '../types.js';
import { monotonicMs } from './clock.js';
import { EXCLUSIVE_PREFIX, SHARED_DIR, leaseName, type LockLayout } from './layout.js';

/**
 * A would-be holder's private directory, holding its lease entry, ready to be renamed onto
 * the lock directory. Every acquisition makes a fresh one (a new token, so a new inode and
 * new names): a lock directory is never recycled, so a client whose cached lookup of
 * `content.lock` still points at an old lock directory finds it gone (ESTALE) instead of
 * acting on somebody's staging directory (finding F2 of issue 12).
 */
export class Staging {
  readonly dir: string;
  readonly token: string;
  readonly mode: LockMode;

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

  /** The entry's name inside the lock directory (or its shared/ directory). */
  get entryName(): string {
    const name = leaseName(this.token, 0);
    return this.mode === 'exclusive' ? `${EXCLUSIVE_PREFIX}${name}` : name;
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
