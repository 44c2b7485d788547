import { lstatSync } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { appendLine, atomicWriteFile, lock, type Lock } from '@lambda-efs/efs-utils';

import {
  InternalError,
  InvalidQueryError,
  InvalidWallIdError,
  MessageWallError,
  WallBusyError,
  WallFullError,
  WallLimitError,
  systemErrorCode,
} from '../errors.js';
import { checkMessage } from './message.js';
import { closeQuietly, lastByte, openIfExists, readRange, readTail, readTextThen, readWhole, readWholeText } from './wall-file.js';
import { parseWallId, wallUrlPath, type WallId } from './wall-id.js';

/** Settings of a {@link WallStore}; the function builds them from its environment (config.ts). */
export interface WallStoreOptions {
  /** The mount path: the top-level wall is `<dir>/<fileName>`, per-user walls `<dir>/walls/<id>/<fileName>`. */
  readonly dir: string;
  /** @default 'content' in the function's configuration */
  readonly fileName: string;
  /** Largest message in UTF-8 bytes. */
  readonly maxMessageBytes: number;
  /** Cap of one wall file in bytes, newlines included. */
  readonly maxWallBytes: number;
  /** Lease length of the wall's lock (efs-utils `staleMs`). */
  readonly lockStaleMs: number;
  /** Longest wait for the wall's lock. */
  readonly lockTimeoutMs: number;
  /** Most per-user walls; a POST that would create one more is refused (507). @default unlimited */
  readonly maxWalls?: number;
  /**
   * First chunk size when reading a tail backwards; it doubles until the tail is found.
   * @default 65536
   */
  readonly readChunkBytes?: number;
}

export interface ReadOptions {
  /** Only the last `tail` messages (a whole number from 1). @default undefined: every message */
  readonly tail?: number;
}

export interface WriteOptions {
  /** Shortens the lock wait for this call (the handler passes what is left before its deadline). */
  readonly lockTimeoutMs?: number;
}

/** Messages of a wall: each followed by `\n`; `''` when there is none. */
export interface WallSnapshot {
  readonly text: string;
}

export interface PostResult extends WallSnapshot {
  /** UTF-8 bytes of the stored message, without its newline. */
  readonly messageBytes: number;
  /** Size of the wall file after the append. */
  readonly wallBytes: number;
  /** How long the request waited for the wall's lock, in ms. */
  readonly lockWaitMs: number;
  /** Bytes of an unterminated tail (left by a writer that died mid-write) removed before the append. */
  readonly repairedBytes: number;
  /** Whether this POST created the per-user wall. */
  readonly createdWall: boolean;
}

export interface ClearResult {
  /** Whether there was a wall file to remove. */
  readonly existed: boolean;
  readonly lockWaitMs: number;
}

/** The wall under the lock, before an append. */
interface BeforeAppend {
  /** The wall file opened under the lock (the caller closes it); undefined when there was none. */
  readonly fd: number | undefined;
  /** Size of the wall's whole lines: where the new message goes. */
  readonly wholeEnd: number;
  /** Size of the file as found; more than `wholeEnd` when an unterminated tail was cut off. */
  readonly size: number;
}

/** The largest `tail` accepted; any value above the number of messages returns them all. */
export const MAX_TAIL = 999_999_999;

const NEWLINE = 0x0a;
const DEFAULT_READ_CHUNK_BYTES = 65_536;
/** A read racing a DELETE or a repair on another NFS client can get ESTALE: the file it opened is gone. */
const READ_ATTEMPTS = 3;

/**
 * The message walls kept in files: the post's top-level wall and per-user walls. Plain TypeScript
 * over the file system and efs-utils; every error it throws is a {@link MessageWallError}.
 *
 * - POST takes the wall's exclusive lock once: it opens the wall (its size for the cap), appends
 *   with `appendLine` and releases; then it reads the reply through the descriptor it opened under
 *   the lock, and answers with the wall as it stood right after its own message.
 * - GET takes no lock (see wall-file.ts for why a reader only ever sees whole messages).
 * - DELETE unlinks the wall file under the exclusive lock: one atomic step, so a reader sees the
 *   whole wall or none of it.
 *
 * @example
 * const store = new WallStore({ dir: '/mnt/msg', fileName: 'content', maxMessageBytes: 65536,
 *   maxWallBytes: 2097152, lockStaleMs: 3000, lockTimeoutMs: 5000 });
 * await store.post(null, 'Hello from EFS!'); // { text: 'Hello from EFS!\n', … }
 * await store.read('alice', { tail: 10 });
 */
export class WallStore {
  readonly #options: WallStoreOptions;
  readonly #chunkBytes: number;
  /** What every wall's path starts with: the directory, normalized, with a separator. */
  readonly #inside: string;

  constructor(options: WallStoreOptions) {
    this.#options = options;
    this.#chunkBytes = options.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES;
    this.#inside = join(options.dir, 'x').slice(0, -1); // '' for '.'
  }

  /** The file of a wall. Throws {@link InvalidWallIdError} for an invalid id; never a path outside `dir`. */
  wallPath(id: WallId): string {
    const { dir, fileName } = this.#options;
    const file = id === null ? join(dir, fileName) : join(dir, 'walls', parseWallId(id), fileName);
    // Defense in depth: the id pattern already makes this impossible (join normalizes any "..").
    if (!file.startsWith(this.#inside) || file.startsWith('..') || file.length === this.#inside.length) {
      throw new InvalidWallIdError('Wall id is invalid: use 1 to 64 letters, digits, "-" or "_", for example /message-wall/alice.');
    }
    return file;
  }

  /** Every message of the wall (or its last `tail`), without taking a lock. */
  async read(id: WallId, options: ReadOptions = {}): Promise<WallSnapshot> {
    const file = this.wallPath(id);
    const tail = checkTail(options.tail);
    return guard(`Reading ${describe(id)}`, async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return this.#readOnce(file, tail);
        } catch (error) {
          if (systemErrorCode(error) !== 'ESTALE' || attempt >= READ_ATTEMPTS) throw error;
        }
      }
    });
  }

  /**
   * Appends `message` as one line and returns the wall after it (or its last `tail` messages),
   * all under one exclusive lock. The message is either stored and returned, or not stored and
   * an error is thrown.
   */
  async post(id: WallId, message: string, options: ReadOptions & WriteOptions = {}): Promise<PostResult> {
    const file = this.wallPath(id);
    const tail = checkTail(options.tail);
    const messageBytes = checkMessage(message, this.#options.maxMessageBytes);
    return guard(`Posting to ${describe(id)}`, async () => {
      const createdWall = id !== null && (await this.#createWall(id, dirname(file), options));
      const { held, lockWaitMs } = await this.#lock(id, file, options);
      let before: BeforeAppend;
      try {
        before = await this.#wallBeforeAppend(file, held);
      } catch (error) {
        await release(held);
        throw error;
      }
      try {
        try {
          const wallBytes = before.wholeEnd + messageBytes + 1;
          if (wallBytes > this.#options.maxWallBytes) {
            throw new WallFullError(describe(id), before.wholeEnd, messageBytes + 1, this.#options.maxWallBytes, wallUrlPath(id));
          }
          await this.#append(id, file, message, held, before.wholeEnd);
        } finally {
          await release(held);
        }
        // The reply is read after the lock is released, so the lock is held for the append alone
        // (other environments wait for it, and a long hold is a long queue). Still exactly the wall
        // right after this message: its first `wholeEnd` bytes never change once written (writers
        // only append, repair by renaming a new file in and DELETE unlinks), and they are read
        // through the descriptor opened under the lock; the message itself follows them.
        return {
          text: this.#reply(file, before, tail, message),
          messageBytes,
          wallBytes: before.wholeEnd + messageBytes + 1,
          lockWaitMs,
          repairedBytes: before.size - before.wholeEnd,
          createdWall,
        };
      } finally {
        if (before.fd !== undefined) closeQuietly(before.fd);
      }
    });
  }

  /**
   * The reply: the whole lines before the new message (all, or the last `tail - 1`), then the
   * message, read from the descriptor opened under the lock. On NFS a read through it can fail
   * with ESTALE when another client replaced (repair) or removed (DELETE) the file since: then
   * from the file as it is now, if it still holds the message at the same place (a repair keeps
   * every whole line).
   */
  #reply(file: string, before: BeforeAppend, tail: number | undefined, message: string): string {
    const ownLine = `${message}\n`;
    if (before.fd === undefined || tail === 1) return ownLine;
    const read = (fd: number): string =>
      tail === undefined
        ? readTextThen(fd, before.wholeEnd, ownLine)
        : `${readTail(fd, before.wholeEnd, tail - 1, this.#chunkBytes).bytes.toString('utf8')}${ownLine}`;
    try {
      return read(before.fd);
    } catch (error) {
      if (systemErrorCode(error) !== 'ESTALE') throw error;
      const line = Buffer.from(ownLine, 'utf8');
      const now = openIfExists(file);
      try {
        const holdsMessage =
          now !== undefined && now.size >= before.wholeEnd + line.length && readRange(now.fd, before.wholeEnd, line.length).equals(line);
        if (!holdsMessage) throw wallGoneAfterPost(error);
        return read(now.fd);
      } finally {
        if (now !== undefined) closeQuietly(now.fd);
      }
    }
  }

  /** Removes every message of the wall at once. */
  async clear(id: WallId, options: WriteOptions = {}): Promise<ClearResult> {
    const file = this.wallPath(id);
    return guard(`Deleting ${describe(id)}`, async () => {
      // A per-user wall that was never posted to has no directory to lock in: nothing to delete.
      if (id !== null && !isDirectory(dirname(file))) return { existed: false, lockWaitMs: 0 };
      const { held, lockWaitMs } = await this.#lock(id, file, options);
      try {
        await assertStillHeld(held, id);
        return { existed: await removeFile(file), lockWaitMs };
      } finally {
        await release(held);
      }
    });
  }

  /**
   * Creates a per-user wall's directory unless it exists; true when this call created it. Under
   * MESSAGE_WALL_MAX_WALLS, the count and the creation happen under one exclusive lock
   * (`walls.lock`), so concurrent creators in every environment never pass the cap together.
   */
  async #createWall(id: string, wallDir: string, options: WriteOptions): Promise<boolean> {
    if (isDirectory(wallDir)) return false;
    const maxWalls = this.#options.maxWalls;
    if (maxWalls === undefined) {
      await mkdir(wallDir, { recursive: true, mode: 0o750 });
      return true;
    }
    const walls = dirname(wallDir);
    await mkdir(walls, { recursive: true, mode: 0o750 });
    const { held } = await this.#lock(id, walls, options, 'the walls directory');
    try {
      if (isDirectory(wallDir)) return false;
      if ((await countWalls(walls)) >= maxWalls) throw new WallLimitError(describe(id), maxWalls);
      await assertStillHeld(held, id);
      await mkdir(wallDir, { mode: 0o750 });
      return true;
    } finally {
      await release(held);
    }
  }

  #readOnce(file: string, tail: number | undefined): WallSnapshot {
    const wall = openIfExists(file);
    if (wall === undefined) return { text: '' };
    try {
      if (tail === undefined) return { text: readWholeText(wall.fd, wall.size) };
      return { text: readTail(wall.fd, wall.size, tail, this.#chunkBytes).bytes.toString('utf8') };
    } finally {
      closeQuietly(wall.fd);
    }
  }

  async #lock(id: WallId, file: string, options: WriteOptions, what = `the ${describe(id)}`): Promise<{ held: Lock; lockWaitMs: number }> {
    const timeoutMs = Math.max(0, Math.min(this.#options.lockTimeoutMs, options.lockTimeoutMs ?? Number.POSITIVE_INFINITY));
    const startedAt = performance.now();
    try {
      const held = await lock(file, { mode: 'exclusive', staleMs: this.#options.lockStaleMs, timeoutMs });
      return { held, lockWaitMs: roundMs(performance.now() - startedAt) };
    } catch (error) {
      if (systemErrorCode(error) === 'ELOCKTIMEOUT') {
        throw new WallBusyError(
          `${capitalize(what)} is busy: its lock was not free within ${timeoutMs} ms. Nothing was changed; retry in a moment.`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Under the exclusive lock: the size of the wall's whole lines, and the reply's part before the
   * new message. An unterminated tail (a writer died mid-write) is cut off first, by replacing the
   * file with its whole lines: an append after it would glue the fragment to the new message.
   */
  async #wallBeforeAppend(file: string, held: Lock): Promise<BeforeAppend> {
    const wall = openIfExists(file);
    if (wall === undefined) return { fd: undefined, wholeEnd: 0, size: 0 };
    try {
      const { fd, size } = wall;
      let wholeEnd = size;
      const last = lastByte(fd, size);
      if (last !== undefined && last !== NEWLINE) {
        let whole: Buffer;
        ({ bytes: whole, wholeEnd } = readWhole(fd, size));
        // The descriptor keeps the old file, whose first wholeEnd bytes are the new file's.
        await atomicWriteFile(file, whole, { lock: held });
      }
      return { fd, wholeEnd, size };
    } catch (error) {
      closeQuietly(wall.fd);
      throw error;
    }
  }

  async #append(id: WallId, file: string, message: string, held: Lock, offset: number): Promise<void> {
    try {
      await appendLine(file, message, { lock: held });
    } catch (error) {
      const line = Buffer.from(`${message}\n`, 'utf8');
      if (systemErrorCode(error) === 'ELOCKCOMPROMISED') {
        // Lost after the write ('unknown': efs-utils could not confirm the lease once the line was
        // written, e.g. the environment starved past the lease): the file tells. The line whole at
        // its place is stored, whatever others appended after it since; absent, it never will be
        // (the write has returned; one that landed in a fenced-off file is gone with that file).
        if (outcomeOf(error) === 'unknown' && holdsLineAt(file, offset, line, 'followed or not')) return;
        throw lockLost(error, id);
      }
      // An error from close() (NFS reports write errors there) can come after the data landed.
      // Still under the lock, look: a whole line in place, and last, means the message is stored.
      if (holdsLineAt(file, offset, line, 'last')) return;
      throw error;
    }
  }
}

/** Parses a `tail` query value. @throws {InvalidQueryError} */
export function parseTail(raw: string): number {
  const tail = /^[0-9]{1,9}$/.test(raw) ? Number(raw) : Number.NaN;
  return checkTail(tail, raw) ?? Number.NaN;
}

function checkTail(tail: number | undefined, raw: string = String(tail)): number | undefined {
  if (tail === undefined) return undefined;
  if (!Number.isSafeInteger(tail) || tail < 1 || tail > MAX_TAIL) {
    const shown = raw.length > 20 ? `${raw.slice(0, 20)}…` : raw;
    throw new InvalidQueryError(
      `tail is ${JSON.stringify(shown)}: use a whole number of messages from 1 to ${MAX_TAIL}, for example ?tail=20, or leave it out for the whole wall.`,
    );
  }
  return tail;
}

/** True when the file holds exactly `line` at `offset` (and, with `'last'`, nothing after it). */
function holdsLineAt(file: string, offset: number, line: Buffer, position: 'last' | 'followed or not'): boolean {
  try {
    const wall = openIfExists(file);
    if (wall === undefined) return false;
    try {
      const fits = position === 'last' ? wall.size === offset + line.length : wall.size >= offset + line.length;
      return fits && readRange(wall.fd, offset, line.length).equals(line);
    } finally {
      closeQuietly(wall.fd);
    }
  } catch {
    return false;
  }
}

/** Unlinks the wall file; false when it was not there. An ambiguous error counts as done once the file is gone. */
async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return false;
    if (!exists(file)) return true;
    throw error;
  }
}

// exists() and isDirectory() are synchronous, as the store's reads and appends: a POST to a
// per-user wall checks its directory every time, and an async lstat would cost a thread-pool
// round trip (two more context switches).
function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return false;
    throw error;
  }
}

function isDirectory(path: string): boolean {
  try {
    return lstatSync(path).isDirectory();
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}

async function assertStillHeld(held: Lock, id: WallId): Promise<void> {
  try {
    await held.assertHeld();
  } catch (error) {
    if (systemErrorCode(error) === 'ELOCKCOMPROMISED') throw lockLost(error, id);
    throw error;
  }
}

function wallGoneAfterPost(cause: unknown): InternalError {
  return new InternalError(
    'The message was stored, but the wall was deleted (or replaced) before it could be read back for the answer. Read it with GET.',
    { cause },
  );
}

/** efs-utils' LockCompromisedError `outcome`: whether the interrupted write may have landed. */
function outcomeOf(error: unknown): unknown {
  return (error as { outcome?: unknown } | null)?.outcome;
}

function lockLost(cause: unknown, id: WallId): WallBusyError {
  return new WallBusyError(
    `The ${describe(id)}'s lock was lost (this environment was paused too long) and the change was not made. Nothing was changed; retry.`,
    { cause },
  );
}

/** Releasing never decides the outcome: the change is already made (or not), and a lease expires on its own. */
async function release(held: Lock): Promise<void> {
  await held.release().catch(() => {});
}

/** Runs `fn`; anything but a MessageWallError becomes an InternalError that keeps the cause. */
async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof MessageWallError) throw error;
    throw new InternalError(`${what} failed: ${error instanceof Error ? error.message : String(error)}. Nothing was changed.`, {
      cause: error,
    });
  }
}

/** The per-user walls: the directories under `walls/` (lock directories and stray files are not walls). */
async function countWalls(walls: string): Promise<number> {
  const entries = await readdir(walls, { withFileTypes: true });
  return entries.filter((entry) => entry.isDirectory() && !entry.name.endsWith('.lock')).length;
}

function capitalize(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function describe(id: WallId): string {
  return id === null ? 'wall' : `wall "${id}"`;
}

function roundMs(ms: number): number {
  return Math.round(ms * 100) / 100;
}
