import { inflateRawSync } from 'node:zlib';

import { describe, expect, it } from 'vitest';

import { createZip, readZip as readEntries } from '../../src/bundling/zip.js';

/** Reads the entries back through the central directory, as unzip does. */
function readZip(zip: Buffer): { name: string; data: Buffer; mode: number; date: number }[] {
  const end = zip.length - 22;
  expect(zip.readUInt32LE(end)).toBe(0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries = [];
  for (let index = 0; index < count; index += 1) {
    expect(zip.readUInt32LE(offset)).toBe(0x02014b50);
    const size = zip.readUInt32LE(offset + 20);
    const nameLength = zip.readUInt16LE(offset + 28);
    const local = zip.readUInt32LE(offset + 42);
    const name = zip.toString('utf8', offset + 46, offset + 46 + nameLength);
    const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    entries.push({
      name,
      data: inflateRawSync(zip.subarray(dataStart, dataStart + size)),
      mode: zip.readUInt32LE(offset + 38) >>> 16,
      date: zip.readUInt16LE(offset + 14),
    });
    offset += 46 + nameLength;
  }
  return entries;
}

describe('createZip', () => {
  const files = [
    { name: 'handler.mjs', data: Buffer.from('export const handler = async () => "ok";\n') },
    { name: 'lib/data.json', data: Buffer.from('{"a":1}') },
  ];

  it('round-trips every file, in order', () => {
    expect(readZip(createZip(files)).map(({ name, data }) => [name, data.toString()])).toEqual(
      files.map(({ name, data }) => [name, data.toString()]),
    );
  });

  it('gives the same bytes for the same files, so the source hash changes only with the code', () => {
    expect(createZip(files).equals(createZip(files.map((file) => ({ ...file, data: Buffer.from(file.data) }))))).toBe(true);
    expect(createZip(files).equals(createZip([files[0]!, { name: 'lib/data.json', data: Buffer.from('{"a":2}') }]))).toBe(false);
  });

  it('stores regular files readable by everyone, dated 1980-01-01', () => {
    for (const entry of readZip(createZip(files))) {
      expect(entry.mode).toBe(0o100644);
      expect(entry.date).toBe(0x21);
    }
  });

  it('reads back what it wrote (readZip), names and bytes', () => {
    expect(readEntries(createZip(files)).map(({ name, data }) => [name, data.toString()])).toEqual(
      files.map(({ name, data }) => [name, data.toString()]),
    );
  });

  it('refuses to read something that is not a zip', () => {
    expect(() => readEntries(Buffer.from('just text, long enough to have 22 bytes'))).toThrow(/not a zip archive/);
  });

  it.each(['', '/etc/passwd', '../escape.js', 'a/../../b'])('refuses the entry name %j', (name) => {
    expect(() => createZip([{ name, data: Buffer.alloc(0) }])).toThrow(RangeError);
  });
});
