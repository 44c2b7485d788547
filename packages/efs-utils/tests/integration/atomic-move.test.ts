import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicMove } from '../../src/atomic-move.js';
import { DestinationExistsError } from '../../src/errors.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-atomic-move-int-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A small release tree: nested directories, several files. */
function makeTree(root: string, tag: string): void {
  mkdirSync(join(root, 'weights', 'layer1'), { recursive: true });
  writeFileSync(join(root, 'weights', 'layer1', 'w.bin'), Buffer.alloc(100_000, tag));
  writeFileSync(join(root, 'manifest.json'), JSON.stringify({ tag }));
}

describe('atomicMove on a real file system', () => {
  it('moves a directory tree whole, with its content intact', async () => {
    const staging = join(dir, '.staging');
    makeTree(staging, 'x');
    mkdirSync(join(dir, 'releases'));
    await atomicMove(staging, join(dir, 'releases', 'v1'));
    expect(existsSync(staging)).toBe(false);
    expect(JSON.parse(readFileSync(join(dir, 'releases', 'v1', 'manifest.json'), 'utf8'))).toEqual({ tag: 'x' });
    expect(readFileSync(join(dir, 'releases', 'v1', 'weights', 'layer1', 'w.bin')).equals(Buffer.alloc(100_000, 'x'))).toBe(true);
  });

  it('lets exactly one of many concurrent movers of files claim a destination', async () => {
    const sources = Array.from({ length: 10 }, (_, i) => join(dir, `src-${i}`));
    sources.forEach((source, i) => writeFileSync(source, `from ${i}`));
    const results = await Promise.allSettled(sources.map((source) => atomicMove(source, join(dir, 'claimed'))));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DestinationExistsError);
    expect(readFileSync(join(dir, 'claimed'), 'utf8')).toBe(`from ${winners[0]}`);
    // Every loser still has its file.
    expect(readdirSync(dir)).toHaveLength(10);
  });

  it('lets exactly one of many concurrent movers of non-empty directories claim a destination', async () => {
    const sources = Array.from({ length: 8 }, (_, i) => join(dir, `tree-${i}`));
    sources.forEach((source, i) => makeTree(source, String(i)));
    const results = await Promise.allSettled(sources.map((source) => atomicMove(source, join(dir, 'claimed'))));
    const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DestinationExistsError);
    expect(JSON.parse(readFileSync(join(dir, 'claimed', 'manifest.json'), 'utf8'))).toEqual({ tag: String(winners[0]) });
    expect(readdirSync(dir)).toHaveLength(8);
  });
});
