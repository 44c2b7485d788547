import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { errorCode } from './fs-helpers.js';
import { APPEND_EXISTING, platform } from './platform.js';
import { Lease } from './lock/lease.js';
import { withLock, type LockOptions } from './lock.js';
import type { Lock, LockMode } from './types.js';
import { assertOptionalLock, assertOptions, assertPath, describe } from './validate.js';

export interface AppendLineOptions extends Omit<LockOptions, 'mode'> {
  /**
   * An exclusive lock on the same path that the caller already holds (from `lock()` or
   * `withLock()`); the line is written under it instead of a lock of its own.
   */
  lock?: Lock;
  /**
   * fsync before closing. On EFS, close already makes the data durable (close-to-open);
   * on a local disk, set it to survive a power loss.
   * @default false
   */
  fsync?: boolean;
}

export interface ReadLinesOptions extends Omit<LockOptions, 'mode'> {
  /** A lock on the same path that the caller already holds (shared or exclusive). */
  lock?: Lock;
}

/**
 * Appends `line` and a newline to the file at `path` (created if missing) in a single
 * write under an exclusive lock, so concurrent appenders on any number of hosts never
 * tear or interleave lines. The lock is checked right before the write: a holder whose
 * lease was taken over writes nothing and gets `LockCompromisedError`.
 *
 * @example
 * await appendLine('/mnt/msg/content', 'Hello from EFS!');
 */
export async function appendLine(path: string, line: string, options?: AppendLineOptions): Promise<void> {
  assertPath('path', path);
  if (typeof line !== 'string') {
    throw new InvalidArgumentError(`line must be a string, got ${describe(line)}.`);
  }
  if (line.includes('\n') || line.includes('\r')) {
    throw new InvalidArgumentError(
      'line must not contain "\\n" or "\\r": it would become several lines. Append each line separately or escape them.',
    );
  }
  assertOptions('options', options);
  const data = Buffer.from(`${line}\n`, 'utf8');
  const fsync = options?.fsync === true;
  const { lock: held, fsync: _fsync, ...lockOptions } = options ?? {};
  if (held !== undefined) {
    assertLockFor(held, path, ['exclusive']);
    await writeAppend(path, data, held, fsync);
    return;
  }
  await withLock(path, (acquired) => writeAppend(path, data, acquired, fsync), { ...lockOptions, mode: 'exclusive' });
}

/**
 * Reads the file at `path` as UTF-8 lines under a shared lock (so no append is half
 * seen). A missing file (or directory) reads as `[]`. A last line without its newline can only be the
 * remains of a writer that died mid-write; it was never acknowledged and is left out.
 *
 * @example
 * const messages = await readLines('/mnt/msg/content');
 */
export async function readLines(path: string, options?: ReadLinesOptions): Promise<string[]> {
  assertPath('path', path);
  assertOptions('options', options);
  const { lock: held, ...lockOptions } = options ?? {};
  if (held !== undefined) {
    assertLockFor(held, path, ['shared', 'exclusive']);
    await assertStillHeld(held);
    return readWholeLines(path);
  }
  try {
    return await withLock(path, () => readWholeLines(path), { ...lockOptions, mode: 'shared' });
  } catch (error) {
    // No directory, so no file (and nowhere to put a lock): nothing to read.
    if (errorCode(error) === 'ENOENT' && !platform.fs.existsSync(dirname(resolve(path)))) return [];
    throw error;
  }
}

async function writeAppend(path: string, data: Buffer, held: Lock, fsync: boolean): Promise<void> {
  // A foreign Lock's check may be asynchronous: it runs first. Ours runs after the open, so a
  // process stopped after its check sends its WRITE to the file it opened before the check;
  // a taker-over replaces that file (see lock/fence.ts), so the late WRITE changes nothing.
  if (!(held instanceof Lease)) await held.assertHeld();
  const fd = openForAppend(path, held);
  try {
    // From the check to the write there is no await: nothing of this process runs in between.
    if (held instanceof Lease) held.assertHeldSync();
    let written = 0;
    while (written < data.length) written += platform.fs.writeSync(fd, data, written, data.length - written);
    if (fsync) platform.fs.fsyncSync(fd);
  } finally {
    platform.fs.closeSync(fd);
  }
  // On NFS the WRITE goes out at close and can be retransmitted for a long time: the line
  // counts as appended only if the lease provably outlived it (F3).
  if (held instanceof Lease) held.confirmSync('the line was being written');
}

/**
 * Opens the file for appending. A missing one is created only after a check of the lease, so a
 * holder that lost its lease creates nothing (the check before the write still follows).
 */
function openForAppend(path: string, held: Lock): number {
  try {
    return platform.fs.openSync(path, APPEND_EXISTING, 0o666);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
  if (held instanceof Lease) held.assertHeldSync();
  return platform.fs.openSync(path, 'a', 0o666);
}

function readWholeLines(path: string): string[] {
  let text: string;
  try {
    text = platform.fs.readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  const lines = text.split('\n');
  lines.pop(); // '' after the final newline, or an unterminated fragment
  return lines;
}

/** Our own leases are checked synchronously: no event-loop turn between check and write. */
async function assertStillHeld(held: Lock): Promise<void> {
  if (held instanceof Lease) held.assertHeldSync();
  else await held.assertHeld();
}

function assertLockFor(held: Lock, path: string, modes: readonly LockMode[]): void {
  assertOptionalLock('options.lock', held);
  if (held.path !== resolve(path)) {
    throw new InvalidArgumentError(`options.lock protects ${held.path}, not ${resolve(path)}: lock the file you write.`);
  }
  if (!modes.includes(held.mode)) {
    throw new InvalidArgumentError(`options.lock is a ${held.mode} lock; appending needs an exclusive one.`);
  }
}
