// Seeded mutations of a valid archive (header bytes changed, checksums fixed up so the mutation
// reaches the policy checks): the reader either extracts inside its directory or refuses with an
// ArchiveError / ArchiveLimitError. No other error escapes, nothing lands outside, no symlink
// leads out. A failing seed is printed; add it to SEEDS to keep it as a regression.
import { lstat, mkdir, mkdtemp, readdir, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve, dirname } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { ArchiveError, ArchiveLimitError, extractTarGz, packDirectory } from '../../src/archive/index.js';
import { chunked } from '../helpers/tar.js';

const RUNS = 300;
const SEEDS: readonly number[] = [];
let dir: string;
let tar: Buffer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fuzz-'));
  const src = join(dir, 'src');
  await mkdir(join(src, 'a', 'b'), { recursive: true });
  await writeFile(join(src, 'model.onnx'), Buffer.alloc(1500, 1));
  await writeFile(join(src, 'a', 'labels.txt'), 'x\n');
  await writeFile(join(src, 'a', 'b', 'c'), 'deep');
  await symlink('../labels.txt', join(src, 'a', 'b', 'link'));
  tar = gunzipSync((await packDirectory(src)).archive);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Header offsets in the tar (each entry's 512-byte header). */
function headerOffsets(buffer: Buffer): number[] {
  const offsets: number[] = [];
  let offset = 0;
  while (offset + 512 <= buffer.length && buffer.subarray(offset, offset + 512).some((byte) => byte !== 0)) {
    offsets.push(offset);
    const size = Number.parseInt(buffer.toString('latin1', offset + 124, offset + 135), 8) || 0;
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return offsets;
}

const INTERESTING = ['/', '.', '..', '\u0000', '5', '2', '1', '3', '6', 'x', '7', '0', '\\'];

function mutate(seed: number): Buffer {
  const next = random(seed);
  const copy = Buffer.from(tar);
  const headers = headerOffsets(copy);
  const mutations = 1 + Math.floor(next() * 4);
  for (let i = 0; i < mutations; i++) {
    const header = headers[Math.floor(next() * headers.length)] ?? 0;
    // Mostly the name, type flag, link name and size fields.
    const field = [0, 124, 156, 157, 345][Math.floor(next() * 5)] ?? 0;
    const at = header + field + Math.floor(next() * (field === 156 ? 1 : field === 124 ? 11 : 20));
    const value = INTERESTING[Math.floor(next() * INTERESTING.length)] ?? 'x';
    copy.write(value, at, 'latin1');
    // Fix the checksum so that the mutation reaches the policy checks.
    if (next() < 0.9) {
      copy.fill(0x20, header + 148, header + 156);
      let sum = 0;
      for (const byte of copy.subarray(header, header + 512)) sum += byte;
      copy.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, header + 148, 8, 'latin1');
    }
  }
  return gzipSync(copy);
}

async function walk(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(root)) {
    const path = join(root, name);
    found.push(path);
    const info = await lstat(path);
    if (info.isDirectory()) found.push(...(await walk(path)));
  }
  return found;
}

it(`extracts inside or refuses with a typed error, for ${RUNS} mutated archives`, async () => {
  const seeds = [...SEEDS, ...Array.from({ length: RUNS }, (_, i) => 1000 + i)];
  let extracted = 0;
  let refused = 0;
  for (const seed of seeds) {
    const sandbox = join(dir, `run-${seed}`);
    const out = join(sandbox, 'out');
    await mkdir(out, { recursive: true });
    try {
      await extractTarGz(chunked(mutate(seed), 997), out, { limits: { maxBytes: 1024 * 1024, maxEntries: 50 } });
      extracted++;
    } catch (error) {
      if (!(error instanceof ArchiveError || error instanceof ArchiveLimitError))
        throw new Error(`seed ${seed}: ${String(error)}`, { cause: error });
      refused++;
    }
    expect(await readdir(sandbox), `seed ${seed}`).toEqual(['out']);
    for (const path of await walk(out)) {
      const info = await lstat(path);
      expect(info.isFile() || info.isDirectory() || info.isSymbolicLink(), `seed ${seed}: ${path}`).toBe(true);
      if (info.isSymbolicLink()) {
        const target = resolve(dirname(path), await readlink(path));
        expect(relative(out, target).startsWith('..'), `seed ${seed}: ${path} -> ${target}`).toBe(false);
      }
    }
    await rm(sandbox, { recursive: true, force: true });
  }
  // The mutations reach both outcomes (not everything dies at the checksum).
  expect(extracted).toBeGreaterThan(RUNS / 20);
  expect(refused).toBeGreaterThan(RUNS / 20);
}, 120_000);
