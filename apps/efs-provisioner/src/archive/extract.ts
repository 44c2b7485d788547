// The release archive reader: streams a .tar.gz into an empty directory, hashing the compressed
// bytes as they arrive, and refuses anything a release must not contain before writing it. The
// caller extracts into a private staging directory and makes it visible only after the SHA-256
// matched; this module never decides that.
import { createHash } from 'node:crypto';
import { chmod, mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';

import { ArchiveError, ArchiveLimitError, ProvisionerError, systemErrorCode } from '../errors.js';
import { EXEC_MODE, FILE_MODE } from './pack.js';
import { checkEntryPath, checkLinkTarget } from './paths.js';
import { BLOCK, decodeHeader, isZeroBlock, padding, type EntryType } from './ustar.js';

/** Hard limits on what one archive may put on the file system. */
export interface ExtractLimits {
  /** Total bytes of file contents. @default 10 GiB */
  readonly maxBytes: number;
  /** Entries: files, directories and symlinks together. @default 100000 */
  readonly maxEntries: number;
  /** Bytes of an entry's relative path. @default 255 */
  readonly maxPathLength: number;
}

export const DEFAULT_EXTRACT_LIMITS: ExtractLimits = {
  maxBytes: 10 * 1024 ** 3,
  maxEntries: 100_000,
  maxPathLength: 255,
};

/** Zero bytes accepted after the end-of-archive marker (tar pads to its record size, 10 KiB by default). */
const MAX_TRAILING_ZEROS = 1024 * 1024;
const WRITE_CHUNK = 1024 * 1024;

/** What {@link extractTarGz} wrote and read. */
export interface ExtractResult {
  readonly files: number;
  readonly directories: number;
  readonly symlinks: number;
  /** Bytes of file contents written. */
  readonly contentBytes: number;
  /** Compressed bytes read from the source. */
  readonly compressedBytes: number;
  /** Lower-case hex SHA-256 of every compressed byte read from the source. */
  readonly sha256Hex: string;
  /** Each regular file's size and SHA-256 (lower-case hex), by relative path. */
  readonly digests: ReadonlyMap<string, FileDigest>;
  /**
   * SHA-256 of what was extracted, independent of the compression and of entry order: one line
   * per file (path, size, SHA-256), symlink (path, target) and explicit directory, sorted. Two
   * archives of the same directory made by different gzip versions have the same value.
   */
  readonly contentSha256: string;
}

/** A file's size and content hash. */
export interface FileDigest {
  readonly bytes: number;
  readonly sha256: string;
}

/** Options of {@link extractTarGz}. */
export interface ExtractOptions {
  /** @default DEFAULT_EXTRACT_LIMITS */
  readonly limits?: Partial<ExtractLimits>;
  /** Called as compressed bytes arrive (a progress report). */
  readonly onCompressedBytes?: (total: number) => void;
}

/**
 * Extracts a gzip-compressed ustar archive into `destDir` (an existing, empty directory that
 * only this call writes to), reading `source` to its end so that `sha256Hex` covers every byte.
 * Files get mode 0644 (0755 with an execute bit), directories 0755; owners and times are not
 * restored. On an error the caller removes `destDir`: partial content stays there.
 * @throws {ArchiveError} not gzip, truncated, corrupt, or unsafe: an absolute path, `..`, a
 *   symlink leading outside, a hard link, a device/FIFO, a duplicate entry, an entry under a
 *   file or symlink, pax/GNU extension headers, data after the end.
 * @throws {ArchiveLimitError} more than a limit allows.
 * @example
 * const result = await extractTarGz(createReadStream('release.tar.gz'), '/mnt/ml/models/demo/.staging/x/release');
 */
export async function extractTarGz(
  source: AsyncIterable<Uint8Array>,
  destDir: string,
  options: ExtractOptions = {},
): Promise<ExtractResult> {
  const limits: ExtractLimits = { ...DEFAULT_EXTRACT_LIMITS, ...options.limits };
  const hash = createHash('sha256');
  let compressedBytes = 0;
  const gunzip = createGunzip({ chunkSize: 256 * 1024 });
  const stop = new AbortController();
  // Feeds the gunzip stream from the source with backpressure; the parser below consumes it.
  const feeding = (async () => {
    try {
      for await (const chunk of source) {
        if (stop.signal.aborted) return;
        hash.update(chunk);
        compressedBytes += chunk.length;
        options.onCompressedBytes?.(compressedBytes);
        if (!gunzip.write(chunk)) await once(gunzip, 'drain', { signal: stop.signal });
      }
      gunzip.end();
    } catch (error) {
      if (!stop.signal.aborted) gunzip.destroy(error instanceof Error ? error : new Error(String(error)));
    }
  })();
  try {
    const counts = await parseTar(gunzip, destDir, limits);
    await feeding;
    return { ...counts, compressedBytes, sha256Hex: hash.digest('hex') };
  } catch (error) {
    stop.abort();
    gunzip.destroy();
    // Stop a network stream now rather than at its next chunk.
    if (typeof (source as { destroy?: unknown }).destroy === 'function') (source as unknown as { destroy: () => void }).destroy();
    feeding.catch(() => undefined);
    if (error instanceof ProvisionerError) throw error;
    const code = systemErrorCode(error);
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR' || code === 'ERR_STREAM_PREMATURE_CLOSE') {
      throw new ArchiveError(
        `The archive is not valid gzip data, or it is truncated (${error instanceof Error ? error.message : String(error)}). Upload the complete .tar.gz again.`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** Reads exact byte counts from an async stream of chunks. */
class ChunkReader {
  readonly #chunks: AsyncIterator<Buffer>;
  #buffer: Buffer = Buffer.alloc(0);
  #done = false;
  /** Bytes handed out so far (the offset of the next byte). */
  offset = 0;

  constructor(chunks: AsyncIterable<Buffer>) {
    this.#chunks = chunks[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#chunks.next();
    if (next.done === true) {
      this.#done = true;
      return false;
    }
    this.#buffer = this.#buffer.length === 0 ? next.value : Buffer.concat([this.#buffer, next.value]);
    return true;
  }

  /** The next `n` bytes; undefined at a clean end (no byte left); throws on a partial read. */
  async exactly(n: number, what: string): Promise<Buffer | undefined> {
    while (this.#buffer.length < n) {
      if (!(await this.#fill())) {
        if (this.#buffer.length === 0) return undefined;
        throw truncated(what, this.offset + this.#buffer.length);
      }
    }
    const out = this.#buffer.subarray(0, n);
    this.#buffer = this.#buffer.subarray(n);
    this.offset += n;
    return out;
  }

  /** Up to `max` bytes (at least one); throws at the end of the stream. */
  async some(max: number, what: string): Promise<Buffer> {
    if (this.#buffer.length === 0 && !(await this.#fill())) throw truncated(what, this.offset);
    const out = this.#buffer.subarray(0, Math.min(max, this.#buffer.length));
    this.#buffer = this.#buffer.subarray(out.length);
    this.offset += out.length;
    return out;
  }

  /** Reads to the end, requiring zero bytes only, at most `max` of them. */
  async trailingZeros(max: number): Promise<void> {
    let seen = 0;
    for (;;) {
      for (const byte of this.#buffer) {
        if (byte !== 0)
          throw new ArchiveError(
            `The archive has data after its end-of-archive marker (at byte ${this.offset + seen}). Build the archive again.`,
          );
      }
      seen += this.#buffer.length;
      this.#buffer = Buffer.alloc(0);
      if (seen > max)
        throw new ArchiveError(
          `The archive has more than ${max} bytes of padding after its end-of-archive marker. Build the archive again.`,
        );
      if (!(await this.#fill())) return;
    }
  }
}

function truncated(what: string, offset: number): ArchiveError {
  return new ArchiveError(
    `The archive is truncated: it ends at byte ${offset} (uncompressed) inside ${what}. Upload the complete .tar.gz again.`,
  );
}

async function parseTar(
  chunks: AsyncIterable<Buffer>,
  root: string,
  limits: ExtractLimits,
): Promise<{
  files: number;
  directories: number;
  symlinks: number;
  contentBytes: number;
  digests: Map<string, FileDigest>;
  contentSha256: string;
}> {
  const digests = new Map<string, FileDigest>();
  const content: string[] = [];
  const reader = new ChunkReader(chunks);
  // Every path written so far (explicitly or as an ancestor), with its type. Ancestors must be
  // directories: an entry under a symlink would be written wherever the symlink points.
  const seen = new Map<string, { type: EntryType; explicit: boolean }>();
  let files = 0;
  let directories = 0;
  let symlinks = 0;
  let contentBytes = 0;
  let entries = 0;
  const decoder = new TextDecoder('utf-8', { fatal: true });

  const ensureDirectory = async (path: string, explicit: boolean): Promise<void> => {
    const known = seen.get(path);
    if (known !== undefined) {
      if (known.type !== 'directory')
        throw new ArchiveError(
          `The archive is unsafe: ${path} is a ${known.type}, and another entry is placed under it or replaces it. Build the archive from a plain directory.`,
        );
      if (explicit && known.explicit) throw new ArchiveError(`The archive has two entries for ${path}/. Build the archive again.`);
      if (explicit) known.explicit = true;
      return;
    }
    await mkdir(join(root, path), { mode: EXEC_MODE });
    await chmod(join(root, path), EXEC_MODE);
    seen.set(path, { type: 'directory', explicit });
    content.push(`d ${JSON.stringify(path)}\n`);
  };

  for (;;) {
    const headerOffset = reader.offset;
    const block = await reader.exactly(BLOCK, 'a header');
    if (block === undefined)
      throw new ArchiveError(
        'The archive is truncated: it ends without the end-of-archive marker (two zero blocks). Upload the complete .tar.gz again.',
      );
    if (isZeroBlock(block)) {
      const second = await reader.exactly(BLOCK, 'the end-of-archive marker');
      if (second === undefined || !isZeroBlock(second)) {
        throw new ArchiveError(
          `The archive is corrupt: a zero block at byte ${headerOffset} is not followed by a second one. Build the archive again.`,
        );
      }
      await reader.trailingZeros(MAX_TRAILING_ZEROS);
      const contentSha256 = createHash('sha256').update(content.sort().join('')).digest('hex');
      return { files, directories, symlinks, contentBytes, digests, contentSha256 };
    }
    const header = decodeHeader(block, headerOffset);
    let rawPath: string;
    try {
      rawPath = decoder.decode(header.name);
    } catch {
      throw new ArchiveError(`The entry at byte ${headerOffset} has a name that is not valid UTF-8. Rename the file.`);
    }
    let path = rawPath.startsWith('./') ? rawPath.slice(2) : rawPath;
    const isDirectoryFlag = header.typeFlag === '5';
    if (isDirectoryFlag) path = path.replace(/\/$/, '');
    // A leading "./" entry (tar -C dir .) is the release root itself.
    if (isDirectoryFlag && (path === '' || path === '.')) {
      if (++entries > limits.maxEntries) throw entryLimit(limits);
      continue;
    }
    if (Buffer.byteLength(path) > limits.maxPathLength) {
      throw new ArchiveLimitError(
        `The entry ${JSON.stringify(path.slice(0, 80))}… has a path longer than ${limits.maxPathLength} bytes. Shorten it.`,
      );
    }
    const pathProblem = checkEntryPath(path);
    if (pathProblem !== undefined)
      throw new ArchiveError(
        `The archive is unsafe: the entry ${JSON.stringify(rawPath)} is refused because ${pathProblem}. Build the archive from a plain directory with relative paths.`,
      );
    if (++entries > limits.maxEntries) throw entryLimit(limits);

    const type = entryType(header.typeFlag, rawPath);
    if (type !== 'file' && header.size !== 0) {
      throw new ArchiveError(`The archive is corrupt: the ${type} ${path} claims ${header.size} bytes of data. Build the archive again.`);
    }
    const parent = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (parent !== '') {
      let at = '';
      for (const segment of parent.split('/')) {
        at = at === '' ? segment : `${at}/${segment}`;
        await ensureDirectory(at, false);
      }
    }
    if (type === 'directory') {
      await ensureDirectory(path, true);
      directories++;
      continue;
    }
    if (seen.has(path)) throw new ArchiveError(`The archive has two entries for ${path}. Build the archive again.`);
    seen.set(path, { type, explicit: true });
    const target = join(root, path);
    if (type === 'symlink') {
      let linkTarget: string;
      try {
        linkTarget = decoder.decode(header.linkName);
      } catch {
        throw new ArchiveError(`The symlink ${path} has a target that is not valid UTF-8.`);
      }
      const problem = checkLinkTarget(path, linkTarget);
      if (problem !== undefined)
        throw new ArchiveError(
          `The archive is unsafe: the symlink ${path} is refused because ${problem}. Releases may only link inside themselves.`,
        );
      await symlink(linkTarget, target);
      symlinks++;
      content.push(`l ${JSON.stringify(path)} ${JSON.stringify(linkTarget)}\n`);
      continue;
    }

    if (contentBytes + header.size > limits.maxBytes) {
      throw new ArchiveLimitError(
        `The archive holds more than ${limits.maxBytes} bytes of file contents (the entry ${path} alone is ${header.size} bytes). ` +
          'Raise the limit (PROVISION_MAX_BYTES) if the release is meant to be this big.',
      );
    }
    contentBytes += header.size;
    const mode = header.mode & 0o111 ? EXEC_MODE : FILE_MODE;
    // O_EXCL: never opens something that already exists (a symlink planted by an earlier entry included).
    const out = await open(target, 'wx', mode);
    const fileHash = createHash('sha256');
    try {
      let left = header.size;
      while (left > 0) {
        const piece = await reader.some(Math.min(left, WRITE_CHUNK), `the contents of ${path}`);
        fileHash.update(piece);
        let offset = 0;
        while (offset < piece.length) offset += (await out.write(piece, offset, piece.length - offset)).bytesWritten;
        left -= piece.length;
      }
      await out.chmod(mode);
      await out.sync();
    } finally {
      await out.close();
    }
    const pad = padding(header.size);
    if (pad > 0 && (await reader.exactly(pad, `the padding after ${path}`)) === undefined)
      throw truncated(`the padding after ${path}`, reader.offset);
    const digest = { bytes: header.size, sha256: fileHash.digest('hex') };
    digests.set(path, digest);
    content.push(`f ${JSON.stringify(path)} ${digest.bytes} ${digest.sha256}\n`);
    files++;
  }
}

function entryType(flag: string, name: string): EntryType {
  switch (flag) {
    case '0':
    case '\u0000':
      return 'file';
    case '5':
      return 'directory';
    case '2':
      return 'symlink';
    case '1':
      throw new ArchiveError(
        `The archive is unsafe: ${name} is a hard link, which releases may not contain. Archive the file itself (pnpm model:publish does).`,
      );
    case '3':
    case '4':
    case '6':
      throw new ArchiveError(
        `The archive is unsafe: ${name} is a ${flag === '6' ? 'FIFO' : flag === '3' ? 'character device' : 'block device'}, which releases may not contain.`,
      );
    case 'x':
    case 'g':
    case 'L':
    case 'K':
      throw new ArchiveError(
        `The archive uses pax or GNU extension headers (for ${name}), which the provisioner does not read. Build it with pnpm model:publish, or tar --format=ustar.`,
      );
    default:
      throw new ArchiveError(
        `The archive entry ${name} has type "${flag}", which releases may not contain (only files, directories and symlinks).`,
      );
  }
}

function entryLimit(limits: ExtractLimits): ArchiveLimitError {
  return new ArchiveLimitError(
    `The archive has more than ${limits.maxEntries} entries (files, directories and symlinks). Raise the limit (PROVISION_MAX_ENTRIES) if the release is meant to have this many.`,
  );
}
