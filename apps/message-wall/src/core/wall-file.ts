import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

import { systemErrorCode } from '../errors.js';

/**
 * Reading a wall file. Writers only ever (a) append one whole line with a single write under the
 * wall's exclusive lock, (b) replace the file by a rename (repairing a torn tail), or (c) unlink it
 * (DELETE). So the bytes of one open file only grow, by whole lines, and the bytes up to the last
 * newline a reader sees are whole messages; whatever follows is an append in progress (or the
 * remains of a writer that died mid-write, never acknowledged) and is left out.
 *
 * The calls are synchronous on purpose. An execution environment serves one request at a time,
 * so there is nothing else for the event loop to do meanwhile, and a POST holds the wall's lock
 * across these reads: with synchronous calls the holder never yields between them, which keeps
 * the lock's hold time to the I/O itself instead of several thread-pool round trips (under
 * contention on a busy machine, each round trip is a chance to be descheduled while holding it).
 */

const NEWLINE = 0x0a;

/** An open wall file: its descriptor and its size when opened. */
export interface OpenWall {
  readonly fd: number;
  readonly size: number;
}

/** Whole lines read from a wall file. */
export interface WallBytes {
  /** The selected whole lines, each with its newline (empty when none). */
  readonly bytes: Buffer;
  /** Offset just after the last newline of the bytes read: the size of the file's whole lines. */
  readonly wholeEnd: number;
}

/** Opens `path` for reading; a missing file (or wall directory) is `undefined`: an empty wall. */
export function openIfExists(path: string): OpenWall | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    // On NFS, open revalidates the attributes (close-to-open): this size is current.
    return { fd, size: fstatSync(fd).size };
  } catch (error) {
    closeQuietly(fd);
    throw error;
  }
}

/** Closing a descriptor only read from: an error there cannot change what was read. */
export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing was written through it
  }
}

// The buffer a wall is read into to be decoded, kept for the next read: each read is decoded
// before the call returns (nothing else runs meanwhile), so one buffer serves every request of the
// process. A new buffer per request would cost more than the read itself where fresh memory is
// slow to touch, as in a Firecracker microVM (Lambda's, and this project's VM: about 3 ns a byte).
let scratch = Buffer.alloc(0);

function scratchOf(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafeSlow(Math.max(bytes, 2 * scratch.length, 64 * 1024));
  return scratch;
}

/** Reads `length` bytes from `start` into `buffer`; returns how many (fewer only if the file is shorter). */
function readInto(fd: number, buffer: Buffer, start: number, length: number): number {
  let filled = 0;
  while (filled < length) {
    const bytesRead = readSync(fd, buffer, filled, length - filled, start + filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return filled;
}

// The last large text decoded (a GET's wall or a POST's reply) and its bytes. A wall read again
// unchanged (GETs between POSTs, a GET after this environment's own POST) is answered with that
// same string, its bytes compared first, instead of a new one: a string over 128 KiB is a fresh
// allocation of V8's large-object space, about 1 ms on this VM, against 0.02 ms for the compare.
const REMEMBERED_MIN_BYTES = 64 * 1024;
let rememberedBytes = Buffer.alloc(0);
let rememberedLength = -1;
let rememberedText = '';

/** `buffer[0, end)` as text: the remembered string when the bytes are the same, else a new one (remembered if large). */
function textOf(buffer: Buffer, end: number): string {
  if (end === rememberedLength && buffer.compare(rememberedBytes, 0, end, 0, end) === 0) return rememberedText;
  const text = buffer.toString('utf8', 0, end);
  if (end >= REMEMBERED_MIN_BYTES) {
    if (rememberedBytes.length < end) rememberedBytes = Buffer.allocUnsafeSlow(Math.max(end, 2 * rememberedBytes.length));
    buffer.copy(rememberedBytes, 0, 0, end);
    rememberedLength = end;
    rememberedText = text;
  }
  return text;
}

/** Every whole line among the first `size` bytes, as text (one read, one decoding). */
export function readWholeText(fd: number, size: number): string {
  const buffer = scratchOf(size);
  const filled = readInto(fd, buffer, 0, size);
  if (filled === 0) return '';
  return textOf(buffer, buffer.lastIndexOf(NEWLINE, filled - 1) + 1);
}

/**
 * The first `length` bytes followed by `line`, as one text: a POST's reply (the wall before the
 * message, then the message's line), decoded once into a flat string. Text joined from two parts
 * would be copied again, as a whole, when the answer is encoded.
 */
export function readTextThen(fd: number, length: number, line: string): string {
  const buffer = scratchOf(length + Buffer.byteLength(line, 'utf8'));
  const filled = readInto(fd, buffer, 0, length);
  return textOf(buffer, filled + buffer.write(line, filled, 'utf8'));
}

/** Every whole line among the first `size` bytes. */
export function readWhole(fd: number, size: number): WallBytes {
  const all = readRange(fd, 0, size);
  const wholeEnd = all.lastIndexOf(NEWLINE) + 1;
  return { bytes: all.subarray(0, wholeEnd), wholeEnd };
}

/**
 * The last `tail` whole lines among the first `size` bytes, read backwards in chunks that double
 * from `chunkBytes`, so a tail of a large wall costs about its own size.
 */
export function readTail(fd: number, size: number, tail: number, chunkBytes: number): WallBytes {
  let buffer = Buffer.alloc(0);
  let position = size;
  let chunk = chunkBytes;
  for (;;) {
    const start = Math.max(0, position - chunk);
    const part = readRange(fd, start, position - start);
    buffer = part.length === 0 ? buffer : Buffer.concat([part, buffer]);
    position = start;
    const end = buffer.lastIndexOf(NEWLINE) + 1;
    if (end > 0) {
      const from = lineStartBefore(buffer, end, tail);
      if (from !== undefined) return { bytes: buffer.subarray(from, end), wholeEnd: position + end };
      if (position === 0) return { bytes: buffer.subarray(0, end), wholeEnd: end };
    } else if (position === 0) {
      return { bytes: Buffer.alloc(0), wholeEnd: 0 };
    }
    chunk *= 2;
  }
}

/**
 * Where the last `count` lines of `buffer[0, end)` start: just after the newline that ends the line
 * before them. `undefined` when `buffer` does not reach back that far (read more, or it is all).
 */
function lineStartBefore(buffer: Buffer, end: number, count: number): number | undefined {
  let newline = end - 1; // ends the last line
  for (let i = 0; i < count; i++) {
    if (newline === 0) return undefined; // lastIndexOf(…, -1) would search from the buffer's end
    newline = buffer.lastIndexOf(NEWLINE, newline - 1);
    if (newline < 0) return undefined;
  }
  return newline + 1;
}

/** The last byte of the first `size` bytes, or undefined for an empty file. */
export function lastByte(fd: number, size: number): number | undefined {
  if (size === 0) return undefined;
  return readRange(fd, size - 1, 1)[0];
}

/** `length` bytes from `start`, fewer only if the file is shorter (read() may return short counts). */
export function readRange(fd: number, start: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  const filled = readInto(fd, buffer, start, length);
  return filled === length ? buffer : buffer.subarray(0, filled);
}
