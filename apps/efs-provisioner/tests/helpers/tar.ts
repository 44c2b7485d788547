// Builds tar archives byte by byte, including the malicious ones the provisioner must refuse
// (the writer under test refuses to produce them).
import { gzipSync } from 'node:zlib';

export interface RawEntry {
  readonly name: string;
  /** ustar type flag. @default '0' */
  readonly type?: string;
  readonly data?: Buffer | string;
  /** Size written in the header. @default data's length */
  readonly size?: number;
  readonly linkName?: string;
  readonly mode?: number;
  /** ustar prefix field. */
  readonly prefix?: string;
}

export function rawHeader(entry: RawEntry): Buffer {
  const block = Buffer.alloc(512);
  const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
  block.write(entry.name, 0, 100, 'utf8');
  block.write(`${(entry.mode ?? 0o644).toString(8).padStart(7, '0')}\0`, 100, 8, 'ascii');
  block.write('0000000\0', 108, 8, 'ascii');
  block.write('0000000\0', 116, 8, 'ascii');
  block.write(`${(entry.size ?? data.length).toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  block.write('00000000000\0', 136, 12, 'ascii');
  block.write(entry.type ?? '0', 156, 1, 'ascii');
  if (entry.linkName !== undefined) block.write(entry.linkName, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  if (entry.prefix !== undefined) block.write(entry.prefix, 345, 155, 'utf8');
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** An uncompressed tar of `entries`, with the end marker unless `end: false`. */
export function rawTar(entries: readonly RawEntry[], options: { end?: boolean } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(rawHeader(entry));
    const data = entry.data === undefined ? Buffer.alloc(0) : Buffer.from(entry.data);
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    parts.push(Buffer.alloc(pad));
  }
  if (options.end !== false) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function rawTarGz(entries: readonly RawEntry[], options: { end?: boolean } = {}): Buffer {
  return gzipSync(rawTar(entries, options));
}

/** Yields `buffer` in pieces of `size` bytes (a network stream). */
export async function* chunked(buffer: Buffer, size = 7919): AsyncGenerator<Buffer> {
  for (let offset = 0; offset < buffer.length; offset += size) yield buffer.subarray(offset, offset + size);
}
