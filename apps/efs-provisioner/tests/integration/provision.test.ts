// The core against real parts: s3rver + @aws-sdk/client-s3, a real file system under a temp dir,
// and ml-inference's built handler loading what the provisioner installed.
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { packDirectory } from '../../src/archive/index.js';
import { provision, type ProvisionerDeps } from '../../src/core/provision.js';
import { parseRequest, type ProvisionResult } from '../../src/core/request.js';
import {
  ArchiveError,
  ArchiveLimitError,
  BucketNotAllowedError,
  DigestMismatchError,
  DownloadError,
  InvalidRequestError,
  NotInstalledError,
  VersionConflictError,
} from '../../src/errors.js';
import { startMlInference } from '../helpers/ml-inference.js';
import { solidPng } from '../helpers/png.js';
import { writeRelease } from '../helpers/releases.js';
import { BUCKET, startS3, type LocalS3 } from '../helpers/s3.js';
import { rawTarGz } from '../helpers/tar.js';

let s3: LocalS3;
let work: string;
let root: string;
let deps: ProvisionerDeps;
const releases = new Map<string, { archive: Buffer; sha256Hex: string }>();
const RED = solidPng([230, 20, 20]);

beforeAll(async () => {
  s3 = await startS3();
  work = await mkdtemp(join(tmpdir(), 'provision-'));
  for (const suffix of ['v1', 'v2', 'v3', 'v4']) {
    const dir = await writeRelease(join(work, 'src', suffix), suffix);
    releases.set(suffix, await packDirectory(dir));
  }
});

afterAll(async () => {
  await s3?.close();
  await rm(work, { recursive: true, force: true });
});

beforeEach(async () => {
  root = await mkdtemp(join(work, 'efs-'));
  deps = { root, s3: s3.client, policy: { bucket: BUCKET, prefix: 'releases/' }, staleMs: 1000 };
});

async function upload(name: string, archive: Buffer): Promise<{ bucket: string; key: string; sha256: string }> {
  return s3.put(`releases/${name}.tar.gz`, archive);
}

async function installEvent(version: string, suffix: string, extra: Record<string, unknown> = {}): Promise<ProvisionResult> {
  const release = releases.get(suffix);
  if (release === undefined) throw new Error(suffix);
  const artifact = await upload(`${suffix}`, release.archive);
  return provision(parseRequest({ action: 'install', target: 'models/demo', version, artifact, ...extra }), deps);
}

const model = (): string => join(root, 'models', 'demo');

async function state(): Promise<{ current: string | null; releases: string[]; staging: string[] }> {
  const current = await readlink(join(model(), 'current')).catch(() => null);
  return {
    current,
    releases: (await readdir(join(model(), 'releases')).catch(() => [] as string[])).sort(),
    staging: await readdir(join(model(), '.staging')).catch(() => [] as string[]),
  };
}

async function expectRefused(event: Record<string, unknown>, type: new (...args: never[]) => Error, message: RegExp): Promise<void> {
  const before = await state();
  const error = await provision(parseRequest(event), deps).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toMatch(message);
  const after = await state();
  expect(after.current).toBe(before.current);
  expect(after.releases).toEqual(before.releases);
  expect(after.staging).toEqual([]);
}

describe('install', () => {
  it('installs and activates a release in the layout ml-inference reads', async () => {
    const result = await installEvent('1.0.0', 'v1');
    expect(result).toEqual({
      action: 'install',
      target: 'models/demo',
      changed: true,
      active: '1.0.0',
      previous: null,
      releases: ['1.0.0'],
      pruned: [],
      message: 'installed and activated models/demo 1.0.0 (nothing was active)',
    });
    expect(await readlink(join(model(), 'current'))).toBe('releases/1.0.0');
    expect((await readdir(join(model(), 'releases', '1.0.0'))).sort()).toEqual([
      '.artifact.json',
      'labels.txt',
      'model.json',
      'model.onnx',
    ]);
    const record = JSON.parse(await readFile(join(model(), 'releases', '1.0.0', '.artifact.json'), 'utf8')) as {
      artifact: { sha256: string };
    };
    expect(record.artifact.sha256).toBe(releases.get('v1')?.sha256Hex);
    expect((await state()).staging).toEqual([]);
  });

  it('treats the same artifact twice as a no-op', async () => {
    await installEvent('1.0.0', 'v1');
    const linkBefore = await lstat(join(model(), 'current'));
    const again = await installEvent('1.0.0', 'v1');
    expect(again.changed).toBe(false);
    expect(again.message).toBe('models/demo 1.0.0 is already installed and active: nothing changed');
    // Not even re-pointed: the same symlink inode.
    expect((await lstat(join(model(), 'current'))).ino).toBe(linkBefore.ino);
  });

  it('installs once when two runs install the same version at the same time', async () => {
    const artifact = await upload('v1', releases.get('v1')?.archive ?? Buffer.alloc(0));
    const event = parseRequest({ action: 'install', target: 'models/demo', version: '1.0.0', artifact });
    const results = await Promise.all([provision(event, deps), provision(event, deps)]);
    expect(results.map((r) => r.message).sort()).toEqual([
      'installed and activated models/demo 1.0.0 (nothing was active)',
      'models/demo 1.0.0 is already installed and active: nothing changed',
    ]);
    expect(await state()).toEqual({ current: 'releases/1.0.0', releases: ['1.0.0'], staging: [] });
  });

  it('refuses the same version with other content (versions are immutable)', async () => {
    await installEvent('1.0.0', 'v1');
    const artifact = await upload('v2', releases.get('v2')?.archive ?? Buffer.alloc(0));
    await expectRefused(
      { action: 'install', target: 'models/demo', version: '1.0.0', artifact },
      VersionConflictError,
      /already installed from another artifact.*immutable/,
    );
  });

  it('treats the same release re-compressed (another gzip) as already installed', async () => {
    await installEvent('1.0.0', 'v1');
    const recompressed = gzipSync(gunzipSync(releases.get('v1')?.archive ?? Buffer.alloc(0)), { level: 1 });
    expect(recompressed.equals(releases.get('v1')?.archive ?? Buffer.alloc(0))).toBe(false);
    const artifact = await upload('v1-level1', recompressed);
    const result = await provision(parseRequest({ action: 'install', target: 'models/demo', version: '1.0.0', artifact }), deps);
    expect(result).toMatchObject({ changed: false, message: 'models/demo 1.0.0 is already installed and active: nothing changed' });
    expect((await state()).staging).toEqual([]);
  });

  it('refuses an artifact whose sha256 differs, changing nothing', async () => {
    await installEvent('1.0.0', 'v1');
    const artifact = await upload('v2', releases.get('v2')?.archive ?? Buffer.alloc(0));
    const wrong = createHash('sha256').update('something else').digest('hex');
    await expectRefused(
      { action: 'install', target: 'models/demo', version: '2.0.0', artifact: { ...artifact, sha256: wrong } },
      DigestMismatchError,
      /not the expected .*Nothing was installed/,
    );
  });

  it('refuses a truncated archive (even when its sha256 matches what was uploaded)', async () => {
    await installEvent('1.0.0', 'v1');
    const archive = releases.get('v2')?.archive ?? Buffer.alloc(0);
    const artifact = await upload('cut', archive.subarray(0, Math.floor(archive.length / 2)));
    await expectRefused({ action: 'install', target: 'models/demo', version: '2.0.0', artifact }, ArchiveError, /truncated/);
  });

  it('refuses an archive with ../ entries and writes nothing outside', async () => {
    await installEvent('1.0.0', 'v1');
    const artifact = await upload(
      'dotdot',
      rawTarGz([
        { name: 'model.onnx', data: 'x' },
        { name: '../../../escaped', data: 'x' },
      ]),
    );
    await expectRefused({ action: 'install', target: 'models/demo', version: '2.0.0', artifact }, ArchiveError, /contains "\.\."/);
    expect(await readdir(root)).toEqual(['models']);
    expect((await readdir(model())).filter((n) => !n.startsWith('.'))).toEqual(['current', 'releases']);
  });

  it('refuses an absolute symlink', async () => {
    const artifact = await upload('abs', rawTarGz([{ name: 'model.onnx', type: '2', linkName: '/etc/passwd' }]));
    await expectRefused({ action: 'install', target: 'models/demo', version: '2.0.0', artifact }, ArchiveError, /absolute path/);
  });

  it('stops a file-count bomb', async () => {
    deps = { ...deps, limits: { maxEntries: 200 } };
    const artifact = await upload('many', rawTarGz(Array.from({ length: 5000 }, (_, i) => ({ name: `f/${i}`, data: '' }))));
    await expectRefused(
      { action: 'install', target: 'models/demo', version: '2.0.0', artifact },
      ArchiveLimitError,
      /more than 200 entries/,
    );
  });

  it('stops a bytes bomb', async () => {
    deps = { ...deps, limits: { maxBytes: 1024 * 1024 } };
    const { rawHeader } = await import('../helpers/tar.js');
    const bomb = gzipSync(
      Buffer.concat([rawHeader({ name: 'model.onnx', size: 32 * 1024 * 1024 }), Buffer.alloc(32 * 1024 * 1024), Buffer.alloc(1024)]),
    );
    const artifact = await upload('bomb', bomb);
    await expectRefused(
      { action: 'install', target: 'models/demo', version: '2.0.0', artifact },
      ArchiveLimitError,
      /more than 1048576 bytes/,
    );
  });

  it('refuses a model release without model.json', async () => {
    const dir = join(work, `incomplete-${Date.now()}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'model.onnx'), 'x');
    await writeFile(join(dir, 'labels.txt'), 'a\n');
    const artifact = await upload('incomplete', (await packDirectory(dir)).archive);
    await expectRefused({ action: 'install', target: 'models/demo', version: '2.0.0', artifact }, ArchiveError, /no model\.json/);
  });

  it('refuses a release whose files do not match its release.json', async () => {
    const dir = await writeRelease(join(work, `manifest-${Date.now()}`), 'm');
    await writeFile(join(dir, 'release.json'), JSON.stringify({ files: { 'model.onnx': { bytes: 1, sha256: '0'.repeat(64) } } }));
    const artifact = await upload('manifest', (await packDirectory(dir)).archive);
    await expectRefused(
      { action: 'install', target: 'models/demo', version: '2.0.0', artifact },
      ArchiveError,
      /does not match its release\.json/,
    );
  });

  it('refuses another bucket than ARTIFACT_BUCKET', async () => {
    await expectRefused(
      {
        action: 'install',
        target: 'models/demo',
        version: '2.0.0',
        artifact: { bucket: 'someone-elses', key: 'releases/x', sha256: '0'.repeat(64) },
      },
      BucketNotAllowedError,
      /only from bucket "artifacts-test"/,
    );
  });

  it('says what to do when the artifact does not exist', async () => {
    await expectRefused(
      {
        action: 'install',
        target: 'models/demo',
        version: '2.0.0',
        artifact: { bucket: BUCKET, key: 'releases/missing.tar.gz', sha256: '0'.repeat(64) },
      },
      DownloadError,
      /NoSuchKey.*Upload it first/,
    );
  });

  it('installs without activating when asked, then activates', async () => {
    await installEvent('1.0.0', 'v1');
    const installed = await installEvent('2.0.0', 'v2', { activate: false });
    expect(installed).toMatchObject({
      changed: true,
      active: '1.0.0',
      message: 'installed models/demo 2.0.0, not activated (1.0.0 stays active)',
    });
    const activated = await provision(parseRequest({ action: 'activate', target: 'models/demo', version: '2.0.0' }), deps);
    expect(activated).toMatchObject({
      changed: true,
      active: '2.0.0',
      previous: '1.0.0',
      message: 'activated models/demo 2.0.0 (was 1.0.0)',
    });
    expect(await readlink(join(model(), 'current'))).toBe('releases/2.0.0');
  });

  it('keeps the last N releases after an install, never the active one', async () => {
    await installEvent('1.0.0', 'v1');
    await installEvent('2.0.0', 'v2');
    const third = await installEvent('3.0.0', 'v3', { keep: 2 });
    expect(third).toMatchObject({ active: '3.0.0', releases: ['3.0.0', '2.0.0'], pruned: ['1.0.0'] });
    expect(third.message).toBe('installed and activated models/demo 3.0.0 (was 2.0.0); pruned 1.0.0');
    expect((await state()).releases).toEqual(['2.0.0', '3.0.0']);
  });

  it('refuses a libraries release without node_modules/', async () => {
    const artifact = await upload('lib', releases.get('v1')?.archive ?? Buffer.alloc(0));
    const error = await provision(parseRequest({ action: 'install', target: 'libraries/linux-x64', version: '1', artifact }), deps).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(ArchiveError);
    expect((error as Error).message).toMatch(/no node_modules/);
  });
});

describe('rollback, activate and prune', () => {
  beforeEach(async () => {
    await installEvent('1.0.0', 'v1');
    await installEvent('2.0.0', 'v2');
    await installEvent('3.0.0', 'v3');
  });

  it('rolls back to the previously active release', async () => {
    const result = await provision(parseRequest({ action: 'rollback', target: 'models/demo' }), deps);
    expect(result).toMatchObject({
      changed: true,
      active: '2.0.0',
      previous: '3.0.0',
      message: 'rolled back models/demo to 2.0.0 (was 3.0.0)',
    });
    expect(await readlink(join(model(), 'current'))).toBe('releases/2.0.0');
    // Rolling back again goes back to 3.0.0, the release active before 2.0.0 was.
    const again = await provision(parseRequest({ action: 'rollback', target: 'models/demo' }), deps);
    expect(again.active).toBe('3.0.0');
  });

  it('rolls back to a named version', async () => {
    const result = await provision(parseRequest({ action: 'rollback', target: 'models/demo', to: '1.0.0' }), deps);
    expect(result).toMatchObject({ active: '1.0.0', previous: '3.0.0' });
  });

  it('refuses to roll back to a version that is not installed', async () => {
    await expectRefused(
      { action: 'rollback', target: 'models/demo', to: '9.9.9' },
      NotInstalledError,
      /9\.9\.9 is not installed \(installed: 3\.0\.0, 2\.0\.0, 1\.0\.0\)/,
    );
  });

  it('prunes the least recently used releases and never the active one', async () => {
    await provision(parseRequest({ action: 'rollback', target: 'models/demo', to: '1.0.0' }), deps);
    const result = await provision(parseRequest({ action: 'prune', target: 'models/demo', keep: 1 }), deps);
    expect(result).toMatchObject({ changed: true, active: '1.0.0', pruned: ['3.0.0', '2.0.0'], releases: ['1.0.0'] });
    expect((await state()).releases).toEqual(['1.0.0']);
    const nothing = await provision(parseRequest({ action: 'prune', target: 'models/demo', keep: 1 }), deps);
    expect(nothing).toMatchObject({ changed: false, pruned: [] });
  });

  it('has nothing to roll back to on a fresh release set', async () => {
    deps = { ...deps, root: await mkdtemp(join(work, 'fresh-')) };
    const error = await provision(parseRequest({ action: 'rollback', target: 'models/demo' }), deps).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NotInstalledError);
  });
});

describe('the event', () => {
  it('refuses unknown fields, naming them', () => {
    expect(() => parseRequest({ action: 'install', target: 'models/demo', version: '1', artifact: {}, activte: true })).toThrow(
      InvalidRequestError,
    );
    expect(() => parseRequest({ action: 'rollback', target: 'models/../etc' })).toThrow(/"target" must be/);
    expect(() => parseRequest({ action: 'prune', target: 'models/demo' })).toThrow(/"keep" is required/);
  });
});

describe('a running ml-inference', () => {
  it('answers with the new release once current switches, and with the old one after a rollback', async () => {
    await installEvent('1.0.0', 'v1');
    const ml = startMlInference(join(root, 'models'), 'demo');
    try {
      expect((await ml.classify(RED)).body['bird_class']).toBe('red-v1');
      await installEvent('2.0.0', 'v2');
      // The same warm environment: it readlinks `current` per request and loads the new release.
      expect((await ml.classify(RED)).body['bird_class']).toBe('red-v2');
      await provision(parseRequest({ action: 'rollback', target: 'models/demo' }), deps);
      expect((await ml.classify(RED)).body['bird_class']).toBe('red-v1');
    } finally {
      await ml.close();
    }
  });
});
