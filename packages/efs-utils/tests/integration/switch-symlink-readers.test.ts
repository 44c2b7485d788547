import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { switchSymlink } from '../../src/switch-symlink.js';
import { withReaders } from '../helpers/child-readers.js';

const READER = fileURLToPath(new URL('./fixtures/switch-symlink-reader.mjs', import.meta.url));
const TARGETS = ['releases/v1', 'releases/v2'] as const;

let dir: string;
let current: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'efs-utils-switch-symlink-int-'));
  for (const target of TARGETS) {
    mkdirSync(join(dir, target), { recursive: true });
    writeFileSync(join(dir, target, 'VERSION'), target.split('/')[1]!);
  }
  current = join(dir, 'current');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('switchSymlink with concurrent readers in other processes', () => {
  it('never lets a reader see a missing link while it is switched hundreds of times', async () => {
    await switchSymlink(current, TARGETS[0]);
    const reports = await withReaders(READER, [current, ...TARGETS], join(dir, 'stop'), 2, async () => {
      for (let i = 1; i <= 300; i += 1) await switchSymlink(current, TARGETS[i % 2]!);
    });
    for (const report of reports) {
      expect(report.reads).toBeGreaterThan(0);
      // toEqual, not toMatchObject: {} as a pattern would match any errors object.
      expect({ bad: report.bad, samples: report.samples, errors: report.errors }, JSON.stringify(report)).toEqual({
        bad: 0,
        samples: [],
        errors: {},
      });
    }
    // Readers saw both releases, so the switching really overlapped with the reading.
    expect(reports.some((r) => (r.targets as string[]).length === 2)).toBe(true);
    expect(readlinkSync(current)).toBe(TARGETS[0]);
    expect(readdirSync(dir).sort()).toEqual(['current', 'releases', 'stop']);
  });
});
