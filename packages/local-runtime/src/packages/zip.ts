// A small, strict ZIP reader for deployment packages: the archives infra's bundler writes (stored
// or deflated entries, Unix modes) and any ordinary zip a user might build with `zip -r` or
// `zip --symlinks`. Strict means it refuses, with the entry's name, anything that could write
// outside the task directory or that it cannot read exactly: absolute paths, `..`, backslashes,
// duplicate or overlapping names, links that leave the archive's root, devices and pipes,
// encryption, ZIP64, multi-disk archives, unknown methods, wrong sizes or CRCs.
import { posix } from 'node:path';
import { crc32, inflateRawSync } from 'node:zlib';

import { InvalidPackageError } from '../errors.js';

/** One entry of a ZIP archive, checked; `data()` decompresses it and verifies its CRC-32. */
export interface ZipItem {
  /** Normalized path inside the archive, `/`-separated, without a trailing `/`. @example 'node_modules/sharp/package.json' */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  /**
   * Permission bits from the archive (setuid, setgid and sticky removed), or the defaults 0644 /
   * 0755 when the archive was not made on Unix.
   */
  readonly mode: number;
  /** Uncompressed size in bytes (a symlink's is its target's length). */
  readonly size: number;
  /** The contents (a symlink's target), decompressed and checked against the CRC-32. */
  data(): Buffer;
}

/** Limits applied while reading. */
export interface ZipLimits {
  /** Most bytes all entries may hold uncompressed. */
  readonly maxTotalBytes: number;
  /** Most entries. */
  readonly maxEntries: number;
}

const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const CENTRAL_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const STORED = 0;
const DEFLATE = 8;
const ENCRYPTED = 0x0001;
const STRONG_ENCRYPTION = 0x0040;
// Hosts whose external attributes carry a Unix mode in their upper 16 bits: Unix and OS X.
const UNIX_HOSTS = new Set([3, 19]);
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MSDOS_DIRECTORY = 0x10;

/**
 * Reads and checks the central directory of a ZIP archive. Nothing is decompressed until
 * `data()` is called, so a bad archive is refused before anything is written anywhere.
 * @throws {InvalidPackageError} naming the entry and the rule it breaks.
 */
export function readZip(archive: Buffer, limits: ZipLimits): ZipItem[] {
  const end = findEndOfCentralDirectory(archive);
  const disk = archive.readUInt16LE(end + 4);
  const centralDisk = archive.readUInt16LE(end + 6);
  const entriesHere = archive.readUInt16LE(end + 8);
  const count = archive.readUInt16LE(end + 10);
  const centralSize = archive.readUInt32LE(end + 12);
  const centralOffset = archive.readUInt32LE(end + 16);
  if (end >= 20 && archive.readUInt32LE(end - 20) === ZIP64_LOCATOR) {
    throw new InvalidPackageError('is a ZIP64 archive, which this reader does not support (a Lambda package is at most 250 MB unzipped)');
  }
  if (disk !== 0 || centralDisk !== 0 || entriesHere !== count) {
    throw new InvalidPackageError('is a multi-disk (split) archive: make one zip file');
  }
  if (count === 0xffff || centralSize === 0xffffffff || centralOffset === 0xffffffff) {
    throw new InvalidPackageError('uses ZIP64 fields, which this reader does not support');
  }
  if (centralOffset + centralSize > end) {
    throw new InvalidPackageError('is truncated or corrupt: its central directory lies outside the file');
  }
  if (count > limits.maxEntries) {
    throw new InvalidPackageError(`has ${count} entries, more than the ${limits.maxEntries} allowed`);
  }

  const items: ZipItem[] = [];
  const byPath = new Map<string, ZipItem['type']>();
  // Every directory some entry lies under, declared or not.
  const parents = new Set<string>();
  let total = 0;
  let at = centralOffset;
  for (let index = 0; index < count; index++) {
    if (at + 46 > centralOffset + centralSize || archive.readUInt32LE(at) !== CENTRAL_HEADER) {
      throw new InvalidPackageError(`is corrupt: central directory entry #${index + 1} is not where the directory says`);
    }
    const madeBy = archive.readUInt16LE(at + 4);
    const flags = archive.readUInt16LE(at + 8);
    const method = archive.readUInt16LE(at + 10);
    const crc = archive.readUInt32LE(at + 16);
    const compressedSize = archive.readUInt32LE(at + 20);
    const size = archive.readUInt32LE(at + 24);
    const nameLength = archive.readUInt16LE(at + 28);
    const extraLength = archive.readUInt16LE(at + 30);
    const commentLength = archive.readUInt16LE(at + 32);
    const external = archive.readUInt32LE(at + 38);
    const localOffset = archive.readUInt32LE(at + 42);
    const rawName = archive.subarray(at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;

    // Names are UTF-8 in the archives we write (flag 0x0800); others are read the same way.
    const name = rawName.toString('utf8');
    const entry = (rule: string): InvalidPackageError => new InvalidPackageError(`has an entry ${JSON.stringify(name)} ${rule}`);
    if ((flags & (ENCRYPTED | STRONG_ENCRYPTION)) !== 0) throw entry('that is encrypted: packages cannot be encrypted');
    if (method !== STORED && method !== DEFLATE) throw entry(`compressed with method ${method}: only stored (0) and deflate (8) are read`);
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff)
      throw entry('with ZIP64 sizes, which are not supported');

    const path = checkName(name, entry);
    const unixMode = UNIX_HOSTS.has(madeBy >> 8) ? external >>> 16 : 0;
    const type = entryType(name, unixMode, external, entry);
    if (byPath.has(path)) throw entry('that appears twice in the archive');
    // Nothing may be written under a file or through a symlink: `link/x` with `link -> /etc`
    // would write outside the task directory.
    const segments = path.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const parent = segments.slice(0, depth).join('/');
      const parentType = byPath.get(parent);
      if (parentType !== undefined && parentType !== 'directory') throw entry(`under ${JSON.stringify(parent)}, which is a ${parentType}`);
      parents.add(parent);
    }
    if (type !== 'directory' && parents.has(path)) throw entry(`that is a ${type} although other entries lie under it`);
    if (type === 'directory' && size !== 0) throw entry('that is a directory with contents');
    total += size;
    if (total > limits.maxTotalBytes) {
      throw new InvalidPackageError(
        `holds more than ${limits.maxTotalBytes} bytes uncompressed (Lambda's limit for a package is 262,144,000 bytes)`,
      );
    }

    const dataStart = localDataStart(archive, localOffset, centralOffset, entry);
    if (dataStart + compressedSize > centralOffset) throw entry('whose data runs past the end of the entries (a truncated archive)');
    if (method === STORED && compressedSize !== size) throw entry('that is stored with two different sizes');
    const compressed = archive.subarray(dataStart, dataStart + compressedSize);
    const permissions = unixMode === 0 ? (type === 'file' ? 0o644 : 0o755) : unixMode & 0o777;
    const item: ZipItem = {
      path,
      type,
      mode: type === 'symlink' ? 0o777 : permissions,
      size,
      data: () => inflate(compressed, method, size, crc, entry),
    };
    if (type === 'symlink') checkLinkTarget(path, item.data().toString('utf8'), entry);
    byPath.set(path, type);
    items.push(item);
  }
  return items;
}

function findEndOfCentralDirectory(archive: Buffer): number {
  // The record is 22 bytes plus a comment of at most 65,535: search that far back from the end.
  const last = archive.length - 22;
  for (let at = last; at >= 0 && at >= last - 0xffff; at--) {
    if (archive.readUInt32LE(at) === END_OF_CENTRAL_DIRECTORY && at + 22 + archive.readUInt16LE(at + 20) === archive.length) return at;
  }
  throw new InvalidPackageError('is not a ZIP archive (no end-of-central-directory record): it may be truncated, or not a zip at all');
}

function checkName(name: string, entry: (rule: string) => InvalidPackageError): string {
  if (name === '' || name === '/') throw entry('with an empty name');
  if (name.includes('\0')) throw entry('with a NUL character in its name');
  if (name.includes('\\'))
    throw entry('with a backslash in its name (ZIP paths use "/"; was it made on Windows by a tool that does not follow the format?)');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw entry('with an absolute path: entries must be relative to the package root');
  const trimmed = name.endsWith('/') ? name.slice(0, -1) : name;
  const segments = trimmed.split('/');
  if (segments.includes('..')) throw entry('with ".." in its path: entries must stay inside the package root');
  if (segments.some((segment) => segment === '' || segment === '.')) throw entry('with an empty or "." segment in its path');
  return trimmed;
}

function entryType(name: string, unixMode: number, external: number, entry: (rule: string) => InvalidPackageError): ZipItem['type'] {
  const kind = unixMode & S_IFMT;
  if (kind === 0) return name.endsWith('/') || (external & MSDOS_DIRECTORY) !== 0 ? 'directory' : 'file';
  if (kind === S_IFREG && !name.endsWith('/')) return 'file';
  if (kind === S_IFDIR) return 'directory';
  if (kind === S_IFLNK && !name.endsWith('/')) return 'symlink';
  throw entry(
    `of type 0${(kind >> 12).toString(8)} (a device, pipe or socket, or a file named like a directory): only files, directories and symlinks are allowed`,
  );
}

function localDataStart(archive: Buffer, offset: number, centralOffset: number, entry: (rule: string) => InvalidPackageError): number {
  if (offset + 30 > centralOffset || archive.readUInt32LE(offset) !== LOCAL_HEADER) {
    throw entry('whose local header is missing (a corrupt archive)');
  }
  return offset + 30 + archive.readUInt16LE(offset + 26) + archive.readUInt16LE(offset + 28);
}

function checkLinkTarget(path: string, target: string, entry: (rule: string) => InvalidPackageError): void {
  if (target === '' || target.includes('\0')) throw entry('that is a symlink with an empty or invalid target');
  if (target.startsWith('/')) throw entry(`that is a symlink to an absolute path (${target}): links must stay inside the package`);
  const resolved = posix.normalize(posix.join(posix.dirname(path), target));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw entry(`that is a symlink to ${JSON.stringify(target)}, outside the package: links must stay inside it`);
  }
}

function inflate(compressed: Buffer, method: number, size: number, crc: number, entry: (rule: string) => InvalidPackageError): Buffer {
  let data: Buffer;
  if (method === STORED) {
    data = compressed;
  } else {
    try {
      // One byte of room past the declared size: more output than declared is an error, not a bomb.
      data = inflateRawSync(compressed, { maxOutputLength: size + 1 });
    } catch (error) {
      throw entry(`that cannot be decompressed (${(error as Error).message}): the archive is corrupt`);
    }
  }
  if (data.length !== size) throw entry(`whose contents are ${data.length} bytes where the archive says ${size}: the archive is corrupt`);
  if (crc32(data) >>> 0 !== crc) throw entry('whose CRC-32 does not match its contents: the archive is corrupt');
  return data;
}
