import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { platform } from './platform.js';
import { errorCode, fsyncDirectory, holdsFile, isAmbiguous, lstatIfExists, siblingTempPath, unlinkQuietly } from './fs-helpers.js';
import { assertPath } from './validate.js';

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
export async function switchSymlink(linkPath: string, target: string): Promise<void> {
  assertPath('linkPath', linkPath);
  assertPath('target', target);
  refuseNonSymlink(linkPath, await lstatIfExists(linkPath));
  const tmp = siblingTempPath(linkPath, 'tmp');
  await platform.fsp.symlink(target, tmp);
  try {
    await renameVerified(tmp, linkPath, await platform.fsp.lstat(tmp));
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
