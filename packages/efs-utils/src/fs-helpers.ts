import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

import { basename, dirname, join } from 'node:path';
import { platform } from './platform.js';

/**
 * Internal fs helpers shared by atomicWriteFile, atomicMove, switchSymlink and removeTree.
 * Not exported from the package index.
 */

/** The identity of a directory entry's inode; two names with the same identity are one file. */
export interface FileIdentity {
  readonly ino: number;
  readonly dev: number;
}

/** The `code` of a Node.js fs error, or undefined for anything else. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/**
 * Errors after which an NFS operation may have happened anyway. EFS keeps no reply cache, so a
 * RENAME retransmitted after a lost reply fails with ENOENT although the first one succeeded;
 * soft mounts report ETIMEDOUT/EIO for requests the server may have executed.
 */
const AMBIGUOUS = new Set(['ENOENT', 'EIO', 'ETIMEDOUT', 'ESTALE', 'EINTR', 'EAGAIN', 'ECONNRESET']);

export function isAmbiguous(error: unknown): boolean {
  return AMBIGUOUS.has(errorCode(error) ?? '');
}

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}

/** lstat, with a missing entry as undefined (other errors propagate). */
export async function lstatIfExists(path: string): Promise<Stats | undefined> {
  try {
    return await platform.fsp.lstat(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * True when `path` now names the inode `id`. Used to verify an operation after an ambiguous error;
 * any failure to tell counts as "no" so the caller reports its original error.
 */
export async function holdsFile(path: string, id: FileIdentity): Promise<boolean> {
  try {
    return sameFile(await platform.fsp.lstat(path), id);
  } catch {
    return false;
  }
}

/**
 * `.<basename>.<token>.<suffix>` next to `path`: same directory (so a rename stays on one file
 * system), hidden, and unique across hosts. The basename is shortened so the name stays under
 * NAME_MAX (255 bytes) even for 4-byte characters.
 */
export function siblingTempPath(path: string, suffix: 'tmp' | 'trash'): string {
  return join(dirname(path), `.${tempStem(basename(path))}.${platform.token()}.${suffix}`);
}

/** A file name shortened for a temporary name built on it (48 characters, under NAME_MAX even for 4-byte ones). */
export function tempStem(name: string): string {
  return [...name].slice(0, 48).join('');
}

/** Best-effort unlink for cleanup paths: never throws, so it cannot mask the error being reported. */
export async function unlinkQuietly(path: string): Promise<void> {
  try {
    await platform.fsp.unlink(path);
  } catch {
    // Already gone, or unremovable: the caller is already reporting a more useful error.
  }
}

/** Best-effort close for error paths: never throws, so it cannot mask the error being reported. */
export async function closeQuietly(handle: FileHandle): Promise<void> {
  try {
    await handle.close();
  } catch {
    // The fd is released even when close reports an error; nothing more to do.
  }
}

/** Platforms that cannot open or fsync a directory (Windows, some FUSE and network file systems). */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EOPNOTSUPP']);

/**
 * Makes a rename in `dir` durable on local disks (the new entry is written to the directory).
 * On NFS the server commits metadata operations before replying, so this is cheap there.
 * Platforms that refuse to open or fsync directories are tolerated; real I/O errors propagate.
 */
export async function fsyncDirectory(dir: string): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await platform.fsp.open(dir, 'r');
  } catch (error) {
    if (DIR_FSYNC_UNSUPPORTED.has(errorCode(error) ?? '')) return;
    throw error;
  }
  try {
    await handle.sync();
  } catch (error) {
    await closeQuietly(handle);
    if (DIR_FSYNC_UNSUPPORTED.has(errorCode(error) ?? '')) return;
    throw error;
  }
  await handle.close();
}
