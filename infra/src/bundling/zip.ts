// A minimal, deterministic ZIP writer: the same files give the same bytes on every machine and
// every run (fixed 1980-01-01 timestamps, fixed attributes, given order), so the archive's SHA-256
// - which is what Lambda reports as CodeSha256 and what `source_code_hash` holds - changes only
// when the code does. Deflate via node:zlib; no ZIP64 (a Lambda zip is at most 50 MiB).
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

/** One file of the archive. */
export interface ZipEntry {
  /** Path inside the archive, `/`-separated, no leading `/`. @example 'handler.mjs' */
  readonly name: string;
  readonly data: Buffer;
}

// MS-DOS date of 1980-01-01 (the earliest a ZIP can hold) and time 00:00:00.
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
// Made by Unix (3) with spec 2.0; regular file, mode 0644: Lambda reads it as any other user.
const MADE_BY = (3 << 8) | 20;
const EXTERNAL_ATTRIBUTES = (0o100644 << 16) >>> 0;
const UTF8_NAMES = 0x0800;
const DEFLATE = 8;
const MAX_32 = 0xffffffff;

/**
 * Builds a ZIP archive of `entries`, in the given order.
 * @throws {RangeError} for a name that is empty, absolute or has `..`, or an archive too big without ZIP64.
 * @example
 * const zip = createZip([{ name: 'handler.mjs', data: Buffer.from('export const handler = () => 1;') }]);
 */
export function createZip(entries: readonly ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    if (entry.name === '' || entry.name.startsWith('/') || entry.name.split('/').includes('..')) {
      throw new RangeError(`zip entry name ${JSON.stringify(entry.name)} must be a relative path without ".."`);
    }
    const name = Buffer.from(entry.name, 'utf8');
    const compressed = deflateRawSync(entry.data, { level: 9 });
    const checksum = crc32(entry.data) >>> 0;

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(UTF8_NAMES, 6);
    local.writeUInt16LE(DEFLATE, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(checksum, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(UTF8_NAMES, 8);
    central.writeUInt16LE(DEFLATE, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(checksum, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(entry.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    // extra length, comment length, disk number start, internal attributes: 0
    central.writeUInt32LE(EXTERNAL_ATTRIBUTES, 38);
    central.writeUInt32LE(offset, 42);

    locals.push(local, name, compressed);
    centrals.push(central, name);
    offset += local.length + name.length + compressed.length;
    if (offset > MAX_32) throw new RangeError('zip archive over 4 GiB: Lambda accepts 50 MiB zipped at most');
  }
  const centralDirectory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralDirectory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralDirectory, end]);
}

/**
 * Reads the files of a ZIP archive through its central directory, as unzip does (stored and
 * deflated entries, no ZIP64): for checking what a deployment package holds.
 * @throws {RangeError} when the archive is not one this module could have written.
 */
export function readZip(zip: Buffer): ZipEntry[] {
  const end = zip.length - 22;
  if (end < 0 || zip.readUInt32LE(end) !== 0x06054b50)
    throw new RangeError('not a zip archive (no end of central directory record; archives with a comment are not read)');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new RangeError(`zip central directory entry ${index} is damaged`);
    const method = zip.readUInt16LE(offset + 10);
    const size = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    if (method !== 0 && method !== DEFLATE)
      throw new RangeError(`zip entry ${name} uses compression method ${method}; only stored and deflated entries are read`);
    entries.push({ name, data: method === 0 ? Buffer.from(raw) : inflateRawSync(raw) });
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}
