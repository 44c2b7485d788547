import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { platform } from './platform.js';
import { errorCode, fsyncDirectory, holdsFile, isAmbiguous, lstatIfExists, siblingTempPath, unlinkQuietly } from './fs-helpers.js';
import { commitRename, fencingLease, oneCommitAtATime } from './fenced-commit.js';
import type { Lock } from './types.js';
import { assertOptionalLock, assertOptions, assertPath } from './validate.js';

/**
 * Points the symlink `linkPath` at `target` atomically: every reader on every host resolves
 * `linkPath` to either the old target or the new one, never to nothing (unlike unlink + symlink).
 * This is the release switch: `models/<name>/current -> releases/<version>`.
 *
 * A new symlink with a unique hidden name (`.<basename>.<random>.tmp`) is created in the same
 * directory and renamed over `linkPath`; on failure it is removed and the error propagates.
 * `linkPath` is created if it does not exist. `target` is stored as given: a relative target is
 * resolved from the link's directory, as with any symlink, and is not required to exist yet.
 *
 * Refuses (InvalidArgumentError) when `linkPath` is a real directory or file rather than a
 * symlink: replacing it would discard its content (and rename(2) cannot put a link in place of a
 * directory anyway).
 *
 * After an ambiguous error (EFS keeps no reply cache, so a retried RENAME can report ENOENT after
 * it succeeded) the switch counts as done when `linkPath` is now the new link.
 *
 * @example
 * ```ts
 * import { atomicMove, switchSymlink } from '@lambda-efs/efs-utils';
 *
 * await atomicMove('/mnt/efs/models/m/.staging-v8', '/mnt/efs/models/m/releases/v8');
 * // Relative target: the tree stays valid wherever the file system is mounted.
 * await switchSymlink('/mnt/efs/models/m/current', 'releases/v8');
 * ```
 */
export async function switchSymlink(linkPath: string, target: string, options?: SwitchSymlinkOptions): Promise<void> {
  assertPath('linkPath', linkPath);
  assertPath('target', target);
  assertOptions('options', options);
  assertOptionalLock('options.lock', options?.lock);
  const held = options?.lock;
  const lease = fencingLease('switchSymlink', linkPath, held);
  if (lease === undefined) return switchVia(linkPath, target, siblingTempPath(linkPath, 'tmp'), held, false);
  return oneCommitAtATime(lease, () => switchVia(linkPath, target, lease.commitTempPath, lease, true));
}

/** Options for {@link switchSymlink}. */
export interface SwitchSymlinkOptions {
  /**
   * An exclusive lock held on `linkPath` (or another file of its directory), as a release
   * switch takes. Checked just before the rename and fenced: a switch that NFS delivers late,
   * after another process took the lock over, fails instead of pointing the link back at an
   * older target. A shared lock, or one in another directory, is refused.
   * @default undefined (no lock check)
   */
  readonly lock?: Lock;
}

/** `fenced`: `tmp` is the lease's own name, so what is there is a leftover of an earlier failed attempt. */
async function switchVia(linkPath: string, target: string, tmp: string, held: Lock | undefined, fenced: boolean): Promise<void> {
  refuseNonSymlink(linkPath, await lstatIfExists(linkPath));
  if (fenced) await unlinkQuietly(tmp);
  await platform.fsp.symlink(target, tmp);
  try {
    const id = await platform.fsp.lstat(tmp);
    await commitRename(held, 'the link was being switched', () => renameVerified(tmp, linkPath, id));
  } catch (error) {
    await unlinkQuietly(tmp);
    throw explain(error, linkPath);
  }
  await fsyncDirectory(dirname(linkPath));
}

function refuseNonSymlink(linkPath: string, existing: Stats | undefined): void {
  if (existing === undefined || existing.isSymbolicLink()) return;
  throw notASymlink(linkPath, existing.isDirectory() ? 'a real directory' : 'not a symlink');
}

function notASymlink(linkPath: string, what: string, cause?: unknown): InvalidArgumentError {
  return new InvalidArgumentError(
    `linkPath ${linkPath} is ${what}, and switchSymlink only replaces symlinks. Move it out of the way ` +
      `(for example into releases/ with atomicMove) or remove it with removeTree, then call switchSymlink again.`,
    cause === undefined ? undefined : { cause },
  );
}

async function renameVerified(tmp: string, linkPath: string, id: Stats): Promise<void> {
  try {
    await platform.fsp.rename(tmp, linkPath);
  } catch (error) {
    if (isAmbiguous(error) && (await holdsFile(linkPath, id))) return;
    throw error;
  }
}

/** A directory created at `linkPath` after the check makes rename fail: say so plainly. */
function explain(error: unknown, linkPath: string): unknown {
  const code = errorCode(error);
  if (code === 'EISDIR' || code === 'ENOTEMPTY' || code === 'EEXIST') return notASymlink(linkPath, 'a real directory', error);
  return error;
}
