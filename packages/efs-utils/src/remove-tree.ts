import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { platform } from './platform.js';
import { errorCode, isAmbiguous, lstatIfExists, siblingTempPath } from './fs-helpers.js';
import { assertPath } from './validate.js';

/**
 * Removes a file, symlink or directory tree so that its name is free at once: the tree is first
 * renamed to a hidden trash name in the same parent (`.<basename>.<random>.trash`), then deleted
 * recursively. Readers on other hosts never see a half-deleted tree under the original name, and
 * the name can be reused as soon as this call passes the rename.
 *
 * Idempotent: a missing `path` resolves without error. A symlink is removed itself, never what
 * it points to.
 *
 * If the deletion fails after the rename (on NFS, typically because another client still has a
 * file open inside, which leaves a `.nfsXXXX` file that cannot be removed), the error propagates
 * and the hidden trash directory remains; the original name is already free. Sweep leftover
 * `.*.trash` entries later, for example with another removeTree call on each.
 *
 * @example
 * ```ts
 * import { removeTree } from '@lambda-efs/efs-utils';
 *
 * await removeTree('/mnt/efs/models/m/releases/v6');
 * await removeTree('/mnt/efs/models/m/releases/v6'); // already gone: resolves
 * ```
 */
export async function removeTree(path: string): Promise<void> {
  assertPath('path', path);
  // resolve() makes `dir/.` or `dir/` rename the directory itself; it does not follow symlinks.
  const full = resolve(path);
  if (dirname(full) === full) {
    throw new InvalidArgumentError(`Refusing to remove ${full}: it is a file system root. Pass a path below it.`);
  }
  const trash = siblingTempPath(full, 'trash');
  if (!(await moveToTrash(full, trash))) return;
  // Retries cover transient EBUSY/ENOTEMPTY while another client closes files inside.
  await platform.fsp.rm(trash, { recursive: true, force: true, maxRetries: 2, retryDelay: 50 });
}

/** Renames `path` to `trash`; false when there was nothing to remove. */
async function moveToTrash(path: string, trash: string): Promise<boolean> {
  try {
    await platform.fsp.rename(path, trash);
    return true;
  } catch (error) {
    // The trash name is ours alone: if it exists, a retried RENAME reported ENOENT after succeeding.
    if (isAmbiguous(error) && (await lstatIfExists(trash).catch(() => undefined)) !== undefined) return true;
    if (errorCode(error) === 'ENOENT') return false;
    throw error;
  }
}
