// POSIX ustar headers (IEEE Std 1003.1, "pax" chapter, ustar interchange format): 512-byte
// blocks, numbers as NUL-terminated octal, names split into prefix (155 bytes) + name (100 bytes).
import { ArchiveError } from '../errors.js';

export const BLOCK = 512;
/** Largest file a ustar size field (11 octal digits) can describe: 8 GiB − 1. */
export const MAX_USTAR_FILE_BYTES = 8 ** 11 - 1;

export type EntryType = 'file' | 'directory' | 'symlink';

export interface HeaderFields {
  /** Relative path, `/`-separated, without a trailing slash. */
  readonly path: string;
  readonly type: EntryType;
  readonly mode: number;
  readonly size: number;
  readonly linkTarget?: string;
}

const TYPE_FLAG: Record<EntryType, string> = { file: '0', directory: '5', symlink: '2' };

/** Encodes one header block (uid/gid 0, mtime 0, no user or group names: the archive is reproducible). */
export function encodeHeader(fields: HeaderFields): Buffer {
  const block = Buffer.alloc(BLOCK);
  const fullName = fields.type === 'directory' ? `${fields.path}/` : fields.path;
  const { prefix, name } = splitName(fullName);
  block.write(name, 0, 100, 'utf8');
  writeOctal(block, 100, 8, fields.mode);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, fields.size);
  writeOctal(block, 136, 12, 0);
  block.write(TYPE_FLAG[fields.type], 156, 1, 'ascii');
  if (fields.linkTarget !== undefined) {
    if (Buffer.byteLength(fields.linkTarget) > 100) {
      throw new ArchiveError(
        `The symlink ${fields.path} points at "${fields.linkTarget}", longer than the 100 bytes a ustar archive allows. Shorten the link target.`,
      );
    }
    block.write(fields.linkTarget, 157, 100, 'utf8');
  }
  block.write('ustar\u000000', 257, 8, 'ascii');
  block.write(prefix, 345, 155, 'utf8');
  // The checksum is computed with its own field as eight spaces.
  block.fill(0x20, 148, 156);
  const sum = checksum(block);
  block.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
  return block;
}

/** A header as read from an archive, before any policy is applied to it. */
export interface RawHeader {
  readonly name: Uint8Array;
  readonly mode: number;
  readonly size: number;
  readonly typeFlag: string;
  readonly linkName: Uint8Array;
}

/**
 * Decodes a header block (not all zeros); checks the checksum and the ustar magic.
 * @throws {ArchiveError} not a ustar header.
 */
export function decodeHeader(block: Buffer, offset: number): RawHeader {
  const stored = readOctal(block, 148, 8, 'checksum', offset);
  const copy = Buffer.from(block);
  copy.fill(0x20, 148, 156);
  if (checksum(copy) !== stored) {
    throw new ArchiveError(
      `The archive is corrupt: the header at byte ${offset} has a wrong checksum. Build the archive again (pnpm model:publish does).`,
    );
  }
  const magic = block.toString('latin1', 257, 263);
  if (magic !== 'ustar\u0000' && magic !== 'ustar ') {
    throw new ArchiveError(
      `The entry at byte ${offset} is not a POSIX ustar header. Build the archive with pnpm model:publish, or tar --format=ustar.`,
    );
  }
  const name = cString(block, 0, 100);
  const prefix = magic === 'ustar\u0000' ? cString(block, 345, 155) : new Uint8Array(0);
  const full = prefix.length === 0 ? name : Buffer.concat([prefix, Buffer.from('/'), name]);
  if ((block[124] ?? 0) & 0x80) {
    throw new ArchiveError(`The entry at byte ${offset} uses a base-256 size (a file over 8 GiB), which ustar archives cannot hold.`);
  }
  return {
    name: full,
    mode: readOctal(block, 100, 8, 'mode', offset),
    size: readOctal(block, 124, 12, 'size', offset),
    typeFlag: String.fromCharCode(block[156] ?? 0),
    linkName: cString(block, 157, 100),
  };
}

function splitName(fullName: string): { prefix: string; name: string } {
  const bytes = Buffer.from(fullName, 'utf8');
  if (bytes.length <= 100) return { prefix: '', name: fullName };
  // Split at a slash so that the prefix fits 155 bytes and the rest 100 (a directory's trailing
  // slash stays in the name part).
  for (let i = Math.min(bytes.length - 2, 155); i > 0; i--) {
    if (bytes[i] === 0x2f && bytes.length - i - 1 <= 100) {
      return { prefix: bytes.subarray(0, i).toString('utf8'), name: bytes.subarray(i + 1).toString('utf8') };
    }
  }
  throw new ArchiveError(
    `The path ${fullName} is too long for a ustar archive (at most 255 bytes, split at a "/" into 155 + 100). Shorten it.`,
  );
}

function writeOctal(block: Buffer, offset: number, length: number, value: number): void {
  const digits = value.toString(8);
  if (digits.length > length - 1)
    throw new ArchiveError(`The value ${value} does not fit a ustar header field of ${length - 1} octal digits.`);
  block.write(`${digits.padStart(length - 1, '0')}\u0000`, offset, length, 'ascii');
}

function readOctal(block: Buffer, offset: number, length: number, field: string, at: number): number {
  // Octal digits, padded with leading spaces or zeros and ended by NUL or space.
  const text =
    block
      .toString('latin1', offset, offset + length)
      .split('\u0000')[0]
      ?.trim() ?? '';
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new ArchiveError(`The archive is corrupt: the header at byte ${at} has an invalid ${field} field. Build the archive again.`);
  return Number.parseInt(text, 8);
}

function cString(block: Buffer, offset: number, length: number): Uint8Array {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return Uint8Array.prototype.slice.call(end === -1 ? field : field.subarray(0, end));
}

function checksum(block: Buffer): number {
  let sum = 0;
  for (const byte of block) sum += byte;
  return sum;
}

/** True when the block is 512 zero bytes (the end-of-archive marker). */
export function isZeroBlock(block: Buffer): boolean {
  for (const byte of block) if (byte !== 0) return false;
  return true;
}

/** Bytes of padding after `size` bytes of data, up to the next block boundary. */
export function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
