// The release archive writer (contract C2): a gzip-compressed POSIX ustar archive of a
// directory's contents, byte-identical for the same input (sorted entries, mtime 0, uid/gid 0,
// no user names, fixed modes, a fixed gzip header), so its SHA-256 names the release's content.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

import { ArchiveError, systemErrorCode } from '../errors.js';
import { checkLinkTarget } from './paths.js';
import { BLOCK, encodeHeader, MAX_USTAR_FILE_BYTES, padding } from './ustar.js';

/** Mode of regular files without any execute bit, in the archive. */
export const FILE_MODE = 0o644;
/** Mode of directories and of files with an execute bit, in the archive. */
export const EXEC_MODE = 0o755;
const SYMLINK_MODE = 0o777;
/** The gzip header's OS byte: 3 (Unix) on every platform, so that archives match across machines. */
const GZIP_OS_UNIX = 3;
const GZIP_LEVEL = 6;

/** A packed archive held in memory. */
export interface PackedArchive {
  /** The .tar.gz bytes. */
  readonly archive: Buffer;
  /** Lower-case hex SHA-256 of `archive`. */
  readonly sha256Hex: string;
}

/** What {@link packDirectoryToFile} wrote. */
export interface PackedFile {
  readonly path: string;
  readonly bytes: number;
  readonly sha256Hex: string;
  /** Entries (files, directories, symlinks) in the archive. */
  readonly entries: number;
  /** Uncompressed bytes of the files' contents. */
  readonly contentBytes: number;
}

/** Options of the pack functions. */
export interface PackOptions {
  /** Called with uncompressed content bytes done and total, while packing: a progress bar. */
  readonly onProgress?: (done: number, total: number) => void;
}

/**
 * Packs a directory's contents (relative paths; regular files, directories, symlinks that stay
 * inside it) into a deterministic .tar.gz held in memory. For releases of more than a few
 * hundred MB, use {@link packDirectoryToFile}.
 * @throws {ArchiveError} a special file, a symlink leading outside `dir`, a path too long for ustar, a file of 8 GiB or more.
 * @example
 * const { archive, sha256Hex } = await packDirectory('.efs/ml/models/demo/releases/1.0.0');
 */
export async function packDirectory(dir: string, options: PackOptions = {}): Promise<PackedArchive> {
  const parts: Buffer[] = [];
  const { sha256Hex } = await pack(dir, options, (chunk) => {
    parts.push(chunk);
  });
  return { archive: Buffer.concat(parts), sha256Hex };
}

/**
 * Like {@link packDirectory}, streaming the archive into a new file at `path` (exclusive create).
 * Same input directory → byte-identical file.
 */
export async function packDirectoryToFile(dir: string, path: string, options: PackOptions = {}): Promise<PackedFile> {
  const out = await open(path, 'wx', FILE_MODE);
  try {
    const result = await pack(dir, options, async (chunk) => {
      let offset = 0;
      while (offset < chunk.length) offset += (await out.write(chunk, offset, chunk.length - offset)).bytesWritten;
    });
    await out.sync();
    return { path, ...result };
  } finally {
    await out.close();
  }
}

interface Entry {
  readonly path: string;
  readonly absolute: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly size: number;
  readonly linkTarget?: string;
}

async function pack(
  dir: string,
  options: PackOptions,
  sink: (chunk: Buffer) => void | Promise<void>,
): Promise<{ bytes: number; sha256Hex: string; entries: number; contentBytes: number }> {
  const entries = await listEntries(dir);
  const contentBytes = entries.reduce((total, entry) => total + entry.size, 0);
  const hash = createHash('sha256');
  let bytes = 0;
  await pipeline(
    Readable.from(tarBlocks(entries, contentBytes, options.onProgress)),
    createGzip({ level: GZIP_LEVEL, chunkSize: 1024 * 1024 }),
    async (gzipped: AsyncIterable<Buffer>) => {
      for await (let chunk of gzipped) {
        // zlib writes the OS it was built for into byte 9 of the gzip header.
        if (bytes <= 9 && bytes + chunk.length > 9) {
          chunk = Buffer.from(chunk);
          chunk[9 - bytes] = GZIP_OS_UNIX;
        }
        hash.update(chunk);
        bytes += chunk.length;
        await sink(chunk);
      }
    },
  );
  return { bytes, sha256Hex: hash.digest('hex'), entries: entries.length, contentBytes };
}

async function* tarBlocks(entries: readonly Entry[], total: number, onProgress: PackOptions['onProgress']): AsyncGenerator<Buffer> {
  let done = 0;
  onProgress?.(0, total);
  for (const entry of entries) {
    yield encodeHeader({
      path: entry.path,
      type: entry.type,
      mode: entry.mode,
      size: entry.size,
      ...(entry.linkTarget === undefined ? {} : { linkTarget: entry.linkTarget }),
    });
    if (entry.type !== 'file') continue;
    let read = 0;
    for await (const chunk of createReadStream(entry.absolute, { highWaterMark: 1024 * 1024 })) {
      const buffer = chunk as Buffer;
      read += buffer.length;
      if (read > entry.size) break;
      yield buffer;
      done += buffer.length;
      onProgress?.(done, total);
    }
    if (read !== entry.size) {
      throw new ArchiveError(
        `${entry.absolute} changed size while it was packed (${entry.size} → ${read} bytes). Pack it again when nothing writes to it.`,
      );
    }
    const pad = padding(entry.size);
    if (pad > 0) yield Buffer.alloc(pad);
  }
  // End of archive: two zero blocks.
  yield Buffer.alloc(2 * BLOCK);
}

/** The directory's entries, depth first, each directory before its contents, siblings in byte order. */
async function listEntries(root: string): Promise<Entry[]> {
  let rootInfo;
  try {
    rootInfo = await lstat(root);
  } catch (error) {
    throw new ArchiveError(`Cannot pack ${root}: ${systemErrorCode(error) ?? String(error)}. Pass an existing directory.`, {
      cause: error,
    });
  }
  if (!rootInfo.isDirectory()) throw new ArchiveError(`Cannot pack ${root}: it is not a directory.`);
  const entries: Entry[] = [];
  const walk = async (absoluteDir: string, relativeDir: string): Promise<void> => {
    const names = (await readdir(absoluteDir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const absolute = join(absoluteDir, name);
      const path = relativeDir === '' ? name : `${relativeDir}/${name}`;
      const info = await lstat(absolute);
      if (info.isDirectory()) {
        entries.push({ path, absolute, type: 'directory', mode: EXEC_MODE, size: 0 });
        await walk(absolute, path);
      } else if (info.isFile()) {
        if (info.size > MAX_USTAR_FILE_BYTES)
          throw new ArchiveError(`${absolute} is ${info.size} bytes: a ustar archive holds files of less than 8 GiB. Split it.`);
        entries.push({ path, absolute, type: 'file', mode: info.mode & 0o111 ? EXEC_MODE : FILE_MODE, size: info.size });
      } else if (info.isSymbolicLink()) {
        const linkTarget = await readlink(absolute);
        const problem = checkLinkTarget(path, linkTarget);
        if (problem !== undefined)
          throw new ArchiveError(`Cannot pack the symlink ${absolute}: ${problem}. Replace it with the file it points at.`);
        entries.push({ path, absolute, type: 'symlink', mode: SYMLINK_MODE, size: 0, linkTarget });
      } else {
        throw new ArchiveError(
          `Cannot pack ${absolute}: it is not a regular file, directory or symlink (sockets, FIFOs and devices have no place in a release).`,
        );
      }
    }
  };
  await walk(root, '');
  return entries;
}
