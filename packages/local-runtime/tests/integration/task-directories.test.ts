import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { InvalidPackageError } from '../../src/index.js';
import { TaskDirectories } from '../../src/packages/task-directories.js';
import { tempDir } from '../helpers/runtime.js';
import { makeZip } from '../helpers/zip.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function setUp(): { root: string; zipPath: string; zip: Buffer } {
  const dir = tempDir('local-runtime-tasks-');
  dirs.push(dir);
  const zip = makeZip([
    { name: 'handler.mjs', data: 'export const handler = () => 1;' },
    { name: 'lib/data.bin', data: Buffer.alloc(100_000, 3) },
  ]);
  const zipPath = join(dir, 'handler.zip');
  writeFileSync(zipPath, zip);
  return { root: join(dir, 'tasks'), zipPath, zip };
}

describe('TaskDirectories', () => {
  it('extracts a package once, into a directory named by its SHA-256, and reuses it', async () => {
    const { root, zipPath, zip } = setUp();
    const tasks = new TaskDirectories(root);
    const first = await tasks.prepare('fn', zipPath);
    expect(first.dir).toBe(join(root, 'fn', createHash('sha256').update(zip).digest('hex')));
    expect(readFileSync(first.entry, 'utf8')).toBe('export const handler = () => 1;');
    const extractedAt = statSync(first.entry).mtimeMs;
    // Another runtime (a new instance) finds the same directory complete and extracts nothing.
    const again = await new TaskDirectories(root).prepare('fn', zipPath);
    expect(again.dir).toBe(first.dir);
    expect(statSync(again.entry).mtimeMs).toBe(extractedAt);
  });

  it('gives two runtimes extracting the same package at once one whole copy', async () => {
    const { root, zipPath } = setUp();
    const results = await Promise.all([new TaskDirectories(root).prepare('fn', zipPath), new TaskDirectories(root).prepare('fn', zipPath)]);
    expect(results[0].dir).toBe(results[1].dir);
    expect(readFileSync(join(results[0].dir, 'lib', 'data.bin')).equals(Buffer.alloc(100_000, 3))).toBe(true);
    expect(readdirSync(join(root, 'fn'))).toEqual([results[0].sha256]);
  });

  it('removes the staging directory a dead runtime left behind', async () => {
    const { root, zipPath } = setUp();
    // A pid that cannot be alive (above the kernel's pid_max).
    const debris = join(root, 'fn', '.staging-0123456789abcdef-99999999-cafe0000');
    mkdirSync(join(debris, 'lib'), { recursive: true });
    writeFileSync(join(debris, 'lib', 'half'), 'x');
    await new TaskDirectories(root).prepare('fn', zipPath);
    expect(existsSync(debris)).toBe(false);
  });

  it('extracts a changed zip again, into a new directory', async () => {
    const { root, zipPath } = setUp();
    const tasks = new TaskDirectories(root);
    const before = await tasks.prepare('fn', zipPath);
    writeFileSync(zipPath, makeZip([{ name: 'handler.mjs', data: 'export const handler = () => 2;' }]));
    const after = await tasks.prepare('fn', zipPath);
    expect(after.dir).not.toBe(before.dir);
    expect(readFileSync(after.entry, 'utf8')).toBe('export const handler = () => 2;');
  });

  it('says where it could not extract, and what to do', async () => {
    const { zipPath } = setUp();
    const file = join(dirs[0] ?? '', 'not-a-directory');
    writeFileSync(file, '');
    await expect(new TaskDirectories(join(file, 'tasks')).prepare('fn', zipPath)).rejects.toThrow(InvalidPackageError);
    await expect(new TaskDirectories(join(file, 'tasks')).prepare('fn', zipPath)).rejects.toThrow(
      /cannot be created \(ENOTDIR\); point TMPDIR/,
    );
  });
});
