import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { atomicWriteFile } from '../../src/atomic-write.js';
import { withReaders } from '../helpers/child-readers.js';

const READER = fileURLToPath(new URL('./fixtures/atomic-write-reader.mjs', import.meta.url));

let dir: string;
let target: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-atomic-write-int-'));
  target = join(dir, 'model.bin');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Version n: a header, then a body of one letter whose length varies so a torn read shows. */
function version(n: number): Buffer {
  const length = 64 * 1024 + ((n * 7919 * 131) % (960 * 1024));
  return Buffer.concat([Buffer.from(`v=${n} len=${length}\n`), Buffer.alloc(length, 97 + (n % 26))]);
}

describe('atomicWriteFile with concurrent readers in other processes', () => {
  it('lets readers see only complete versions, never a torn, empty or missing file', async () => {
    await atomicWriteFile(target, version(0));
    const reports = await withReaders(READER, [target], join(dir, 'stop'), 2, async () => {
      for (let n = 1; n <= 60; n += 1) await atomicWriteFile(target, version(n));
    });
    for (const report of reports) {
      expect(report.reads).toBeGreaterThan(0);
      // toEqual, not toMatchObject: {} as a pattern would match any errors object.
      expect({ bad: report.bad, samples: report.samples, errors: report.errors }, JSON.stringify(report)).toEqual({
        bad: 0,
        samples: [],
        errors: {},
      });
      expect(report.versions as number).toBeGreaterThan(1);
    }
    expect(readFileSync(target).equals(version(60))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['model.bin', 'stop']);
  });

  it('ends with exactly one complete version when writers race, and leaves no temp files', async () => {
    await Promise.all(Array.from({ length: 12 }, (_, n) => atomicWriteFile(target, version(n))));
    const content = readFileSync(target);
    const n = Number(/^v=(\d+)/.exec(content.toString('latin1', 0, 16))?.[1]);
    expect(content.equals(version(n))).toBe(true);
    expect(readdirSync(dir)).toEqual(['model.bin']);
  });
});
