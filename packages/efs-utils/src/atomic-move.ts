import type { Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { CrossDeviceError, DestinationExistsError, InvalidArgumentError } from './errors.js';
import { Lease } from './lock/lease.js';
import { platform } from './platform.js';
import { errorCode, holdsFile, isAmbiguous, lstatIfExists, sameFile, unlinkQuietly } from './fs-helpers.js';
import type { Lock } from './types.js';
import { assertOptionalBoolean, assertOptionalLock, assertOptions, assertPath } from './validate.js';

/** Options for {@link atomicMove}. */
export interface AtomicMoveOptions {
  /**
   * Replace an existing destination. A file or symlink can replace a file or symlink; a directory
   * can replace only an empty directory (remove a non-empty one with `removeTree` first, or publish
   * directories behind a symlink and swap them with `switchSymlink`).
   * @default false
   */
  readonly overwrite?: boolean;
  /**
   * A lock held for the move. Its `assertHeld()` runs just before the rename (or link), so a
   * holder whose lease was lost never moves anything: it gets `LockCompromisedError`. A move is
   * not fenced against a takeover (its source is the caller's): without `overwrite` a late one
   * can replace nothing; with `overwrite`, one of our locks is refused, because a move that NFS
   * delivers late could replace what the next holder put there (write with `atomicWriteFile`
   * under the lock instead, or publish with `switchSymlink`).
   * @default undefined (no lock check)
   */
  readonly lock?: Lock;
}

/** link() is refused here, but rename() may still work (no hard links, or fs.protected_hardlinks). */
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK']);

/** Errors meaning "something is in the way at the destination". */
const DESTINATION_IN_THE_WAY = new Set(['EEXIST', 'ENOTEMPTY', 'EISDIR', 'ENOTDIR']);

/**
 * Moves a file, symlink or whole directory from `from` to `to` on the same file system, atomically:
 * `to` appears complete (a directory with all its content) or not at all. Never copies: a move
 * across file systems rejects with `CrossDeviceError` and leaves the source untouched.
 *
 * Without `overwrite`, an existing destination rejects with `DestinationExistsError`. NFS has no
 * no-replace rename (Linux NFS rejects renameat2 flags), so:
 * - files and symlinks are hard-linked to `to` (link() fails with EEXIST atomically) and then
 *   unlinked from `from`: a concurrent writer of `to` is never overwritten. For a moment, and after
 *   a crash between the two steps, the file has both names; the content at `to` is complete. If
 *   the old name cannot be removed (say EACCES on its directory), the link is undone and the error
 *   propagates: nothing moved. Where hard links are refused (EPERM, ENOTSUP), it falls back to
 *   check-then-rename, and a file created at `to` in the window described next is replaced.
 * - directories are checked, then renamed. A directory that is non-empty, or any file or symlink,
 *   appearing at `to` between the check and the rename makes the rename fail, which is reported as
 *   `DestinationExistsError`. **Residual race:** an *empty* directory created at `to` in that window
 *   (a round trip, about a millisecond on EFS) is silently replaced, because rename(2) replaces
 *   empty directories. Serialize writers of `to` with a lock (and pass it as `lock`) if another
 *   process may `mkdir` the destination. Claiming `to` with mkdir first was rejected: readers would
 *   see an empty directory at `to` before its content arrives, and a crash would leave it behind.
 *
 * After an ambiguous error (EFS keeps no reply cache, so a retried RENAME can report ENOENT after
 * it succeeded; soft mounts report ETIMEDOUT or EIO), the move counts as done when `to` now holds
 * the source's inode and `from` is gone; otherwise the original error propagates.
 *
 * Moving a path onto itself resolves and changes nothing.
 *
 * @example
 * ```ts
 * import { atomicMove } from '@lambda-efs/efs-utils';
 *
 * // Stage a release next to its final place, then publish it in one step.
 * await atomicMove('/mnt/efs/models/m/.staging-1234', '/mnt/efs/models/m/releases/v7');
 *
 * // Replace a file, whatever is there.
 * await atomicMove('/mnt/efs/inbox/report.tmp', '/mnt/efs/reports/today.json', { overwrite: true });
 * ```
 */
export async function atomicMove(from: string, to: string, options?: AtomicMoveOptions): Promise<void> {
  assertPath('from', from);
  assertPath('to', to);
  assertOptions('options', options);
  const { overwrite, lock } = options ?? {};
  assertOptionalBoolean('options.overwrite', overwrite);
  assertOptionalLock('options.lock', lock);
  if (overwrite === true && lock instanceof Lease) {
    throw new InvalidArgumentError(
      'atomicMove: options.overwrite with options.lock cannot be made safe on NFS: a move delivered late, after another process ' +
        'took the lock over, would replace what that process put there. Write the file with atomicWriteFile under the lock, or move without overwrite.',
    );
  }
  // A missing source rejects here with the fs ENOENT error, as is.
  const source = await platform.fsp.lstat(from);
  if (overwrite === true) {
    await lock?.assertHeld();
    return renameVerified(from, to, source, true);
  }
  if (await destinationIsSource(from, to, source)) return;
  await lock?.assertHeld();
  if (source.isDirectory()) return renameVerified(from, to, source, false);
  return linkThenUnlink(from, to, source);
}

/**
 * The no-overwrite check: false when `to` is free, true when `to` is `from` itself (nothing to do:
 * rename(2) onto the same entry is a no-op too), DestinationExistsError for anything else at `to`.
 */
async function destinationIsSource(from: string, to: string, source: Stats): Promise<boolean> {
  const existing = await lstatIfExists(to);
  if (existing === undefined) return false;
  if (sameFile(existing, source) && (await sameEntry(from, to))) return true;
  throw new DestinationExistsError(to);
}

/** Same directory entry, also when the paths differ through a symlinked parent directory. */
async function sameEntry(a: string, b: string): Promise<boolean> {
  const [ra, rb] = [resolve(a), resolve(b)];
  if (ra === rb) return true;
  if (basename(ra) !== basename(rb)) return false;
  const [pa, pb] = await Promise.all([platform.fsp.realpath(dirname(ra)), platform.fsp.realpath(dirname(rb))]);
  return pa === pb;
}

async function renameVerified(from: string, to: string, source: Stats, overwrite: boolean): Promise<void> {
  try {
    await platform.fsp.rename(from, to);
  } catch (error) {
    if (isAmbiguous(error) && (await movedTo(from, to, source))) return;
    throw await explainMoveError(error, from, to, source, overwrite);
  }
}

/** The move happened if `to` holds the source inode and `from` no longer exists. */
async function movedTo(from: string, to: string, source: Stats): Promise<boolean> {
  return (await holdsFile(to, source)) && (await isGone(from));
}

async function isGone(path: string): Promise<boolean> {
  try {
    await platform.fsp.lstat(path);
    return false;
  } catch (error) {
    return errorCode(error) === 'ENOENT';
  }
}

async function linkThenUnlink(from: string, to: string, source: Stats): Promise<void> {
  try {
    await platform.fsp.link(from, to);
  } catch (error) {
    if (LINK_UNSUPPORTED.has(errorCode(error) ?? '')) return renameVerified(from, to, source, false);
    // EEXIST can be our own link: a retried LINK whose first reply was lost.
    const maybeOurs = errorCode(error) === 'EEXIST' || isAmbiguous(error);
    if (!(maybeOurs && (await holdsFile(to, source)))) throw await explainMoveError(error, from, to, source, false);
  }
  await dropSourceName(from, to, source);
}

/** Second half of link-then-unlink. If the old name cannot be removed, undo the link: no move. */
async function dropSourceName(from: string, to: string, source: Stats): Promise<void> {
  try {
    await platform.fsp.unlink(from);
  } catch (error) {
    // ENOENT: a retried UNLINK, or a concurrent move of the same file: either way `from` is gone.
    if (await isGone(from)) return;
    if ((await holdsFile(from, source)) && (await holdsFile(to, source))) await unlinkQuietly(to);
    throw error;
  }
}

/** Turns a failed rename or link into an error that says what to do. */
async function explainMoveError(error: unknown, from: string, to: string, source: Stats, overwrite: boolean): Promise<unknown> {
  const code = errorCode(error);
  if (code === 'EXDEV') return new CrossDeviceError(from, to, { cause: error });
  if (!DESTINATION_IN_THE_WAY.has(code ?? '')) return error;
  // ENOTDIR can also mean a parent of `to` is not a directory: blame `to` only if something is there.
  const present = await lstatIfExists(to).catch(() => undefined);
  if (present === undefined) return error;
  if (!overwrite) return new DestinationExistsError(to, { cause: error });
  return new DestinationExistsError(to, { cause: error, reason: whyNotReplaceable(source, present) });
}

function whyNotReplaceable(source: Stats, present: Stats): string {
  if (!present.isDirectory()) {
    return (
      'it is not a directory and the source is, and a rename cannot put a directory in place of a file. ' +
      'Remove it first with removeTree(to), then move.'
    );
  }
  if (!source.isDirectory()) {
    return (
      'it is a directory and the source is not, and a rename cannot put a file in place of a directory. ' +
      'Remove it first with removeTree(to), then move.'
    );
  }
  return (
    'it is a non-empty directory, and a rename can only replace an empty one. Remove it first with ' +
    'removeTree(to), then move; to replace a directory readers are using without a gap, publish it behind a ' +
    'symlink and swap the link with switchSymlink.'
  );
}
