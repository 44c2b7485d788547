import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { commitRename, fencingLease, oneCommitAtATime } from './fenced-commit.js';
import { platform } from './platform.js';
import type { FileIdentity } from './fs-helpers.js';
import { closeQuietly, errorCode, fsyncDirectory, holdsFile, isAmbiguous, siblingTempPath, unlinkQuietly } from './fs-helpers.js';
import type { Lock } from './types.js';
import { assertOptionalBoolean, assertOptionalLock, assertOptionalNumber, assertOptions, assertPath, describe } from './validate.js';

/** Options for {@link atomicWriteFile}. */
export interface AtomicWriteOptions {
  /**
   * Permission bits of the written file, applied exactly (the umask does not narrow them).
   * @default the existing file's permission bits; for a new file 0o666 narrowed by the umask, like fs.writeFile
   */
  readonly mode?: number;
  /**
   * Encoding of `data` when it is a string; ignored for bytes.
   * @default 'utf8'
   */
  readonly encoding?: BufferEncoding;
  /**
   * fsync the file before the rename and the directory after it, so the new content survives a
   * crash or power loss. Turn off only for data you can rebuild.
   * @default true
   */
  readonly fsync?: boolean;
  /**
   * An exclusive lock held on `path` or on another file of its directory. Checked just before
   * the rename, so a holder whose lease was lost never commits (`LockCompromisedError`, the
   * file keeps its old content), and fenced: a rename delivered late after a takeover fails.
   * A shared lock, or one on a file in another directory, is refused (it could not fence the
   * write). Another `Lock` implementation is checked, not fenced.
   * @default undefined (no lock check)
   */
  readonly lock?: Lock;
}

interface WritePlan {
  readonly bytes: Uint8Array;
  readonly mode: number | undefined;
  readonly fsync: boolean;
  readonly lock: Lock | undefined;
}

/**
 * Replaces the content of `path` atomically: readers on any host see either the old content or
 * the whole new content, never a mix or an empty file, and a failure at any step leaves the old
 * content (or no file) in place, removes the temporary file and rejects with the original error.
 *
 * The data goes to `.<basename>.<random>.tmp` in the same directory (exclusive create, fsync),
 * which is then renamed onto `path`. Under an exclusive lock on a file of the same directory the
 * temporary file is `.<locked name>.<lease token>.tmp` instead: a process that takes the lock
 * over removes it, so that this rename, if NFS delivers it late, fails instead of replacing a
 * newer file; the writer then gets `LockCompromisedError`. If `path` is a symlink, the link
 * itself is replaced by a regular file; pass the link's target to write through it. Ownership
 * is not preserved (the file belongs to the writer, as with any new file).
 *
 * If the error comes from the directory fsync after the rename, the new content is already in
 * place but its durability is unknown; writing again is safe.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { atomicWriteFile, lock } from '@lambda-efs/efs-utils';
 *
 * await atomicWriteFile('/mnt/efs/config.json', JSON.stringify(config));
 *
 * // Read-modify-write under a lock: a holder whose lease expired never commits.
 * const held = await lock('/mnt/efs/counter.json');
 * try {
 *   const n = Number(await readFile('/mnt/efs/counter.json', 'utf8')) + 1;
 *   await atomicWriteFile('/mnt/efs/counter.json', String(n), { lock: held });
 * } finally {
 *   await held.release();
 * }
 * ```
 */
export async function atomicWriteFile(path: string, data: string | Uint8Array, options?: AtomicWriteOptions): Promise<void> {
  const plan = planWrite(path, data, options);
  const lease = fencingLease('atomicWriteFile', path, plan.lock);
  if (lease === undefined) return writeAndRename(path, plan, siblingTempPath(path, 'tmp'), false);
  return oneCommitAtATime(lease, () => writeAndRename(path, plan, lease.commitTempPath, true));
}

/** `fenced`: `tmp` is the lease's own name (a leftover there is ours). */
async function writeAndRename(path: string, plan: WritePlan, tmp: string, fenced: boolean): Promise<void> {
  const mode = plan.mode ?? (await existingMode(path));
  // Nothing to clean up if this fails: 'wx' created nothing.
  const handle = await openExclusive(tmp, mode ?? 0o666, fenced);
  try {
    const id = await fillAndClose(handle, plan.bytes, mode, plan.fsync);
    await commitRename(plan.lock, 'the file was being replaced', () => renameVerified(tmp, path, id));
  } catch (error) {
    await unlinkQuietly(tmp);
    throw error;
  }
  if (plan.fsync) await fsyncDirectory(dirname(path));
}

/** A fenced name is ours alone: what is there (EEXIST) is a leftover of an earlier failed attempt. */
async function openExclusive(tmp: string, mode: number, ours: boolean): Promise<FileHandle> {
  try {
    return await platform.fsp.open(tmp, 'wx', mode);
  } catch (error) {
    if (!ours || errorCode(error) !== 'EEXIST') throw error;
    await unlinkQuietly(tmp);
    return platform.fsp.open(tmp, 'wx', mode);
  }
}

function planWrite(path: unknown, data: unknown, options: AtomicWriteOptions | undefined): WritePlan {
  assertPath('path', path);
  assertOptions('options', options);
  const { mode, encoding, fsync, lock } = options ?? {};
  assertOptionalNumber('options.mode', mode, 0, 0o7777);
  if (mode !== undefined && !Number.isInteger(mode)) {
    throw new InvalidArgumentError(`options.mode must be an integer such as 0o644, got ${mode}.`);
  }
  if (encoding !== undefined && (typeof encoding !== 'string' || !Buffer.isEncoding(encoding))) {
    throw new InvalidArgumentError(`options.encoding must be a Buffer encoding such as 'utf8', got ${describe(encoding)}.`);
  }
  assertOptionalBoolean('options.fsync', fsync);
  assertOptionalLock('options.lock', lock);
  return { bytes: toBytes(data, encoding), mode, fsync: fsync ?? true, lock };
}

function toBytes(data: unknown, encoding: BufferEncoding | undefined): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, encoding ?? 'utf8');
  if (data instanceof Uint8Array) return data;
  throw new InvalidArgumentError(
    `data must be a string or a Uint8Array (such as a Buffer), got ${describe(data)}. ` +
      'Serialize other values first, for example with JSON.stringify.',
  );
}

/** The permission bits to carry over from the file being replaced, or undefined for a new file. */
async function existingMode(path: string): Promise<number | undefined> {
  try {
    // stat, not lstat: when replacing a symlink, keep the mode of the file it pointed to, not 0o777.
    return (await platform.fsp.stat(path)).mode & 0o7777;
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}

/** Writes, chmods and fsyncs the temp file, then closes it; the handle is closed on every path. */
async function fillAndClose(handle: FileHandle, bytes: Uint8Array, mode: number | undefined, fsync: boolean): Promise<FileIdentity> {
  let id: FileIdentity;
  try {
    await writeAll(handle, bytes);
    // open() narrowed the mode by the umask; an explicit or inherited mode must be exact.
    if (mode !== undefined) await handle.chmod(mode);
    if (fsync) await handle.sync();
    id = await handle.stat();
  } catch (error) {
    await closeQuietly(handle);
    throw error;
  }
  // On NFS close() flushes and can report a write error: it must succeed before the rename.
  await handle.close();
  return id;
}

/** write() may write less than asked (signals, network file systems): loop until all is written. */
async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset, offset);
    if (bytesWritten <= 0) {
      throw Object.assign(new Error(`write returned ${bytesWritten} bytes at offset ${offset}; the disk may be full.`), {
        code: 'EIO',
      });
    }
    offset += bytesWritten;
  }
}

/**
 * Renames the temp file onto `path`. After an ambiguous error (a retried NFS RENAME reports ENOENT
 * although the first one succeeded) the rename counts as done when `path` now holds the temp
 * file's inode: no other file can have that inode while ours exists.
 */
async function renameVerified(tmp: string, path: string, id: FileIdentity): Promise<void> {
  try {
    await platform.fsp.rename(tmp, path);
  } catch (error) {
    if (isAmbiguous(error) && (await holdsFile(path, id))) return;
    throw error;
  }
}
