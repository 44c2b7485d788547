import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { startLocalApi } from '../../src/index.js';
import { fixtureFunction, isRoot, startHarness, tempDir, type Harness } from '../helpers/runtime.js';

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function get(path: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${harness!.api.url}${path}`)).json()) as Record<string, unknown>;
}

describe('access points as directories', () => {
  it('creates the access point directory on first use, with the declared mode', async () => {
    harness = await startHarness();
    const directory = join(harness.api.efsRoot, 'data');
    expect(() => statSync(directory)).toThrow();
    expect(await get('/write?name=first')).toEqual({ written: true });
    const stats = statSync(directory);
    expect(stats.mode & 0o7777).toBe(0o750);
    if (isRoot) expect([stats.uid, stats.gid]).toEqual([1001, 1001]);
  });

  it('leaves an existing access point directory as it is, and says so', async () => {
    harness = await startHarness();
    mkdirSync(join(harness.api.efsRoot, 'data'), { recursive: true, mode: 0o777 });
    chmodSync(join(harness.api.efsRoot, 'data'), 0o777);
    await get('/pid');
    expect(statSync(join(harness.api.efsRoot, 'data')).mode & 0o777).toBe(0o777);
    expect(harness.lines.some((line) => line.includes('already exists') && line.includes('left as it is'))).toBe(true);
  });
});

describe.runIf(isRoot)('permissions, running as root (as in CI)', () => {
  it('runs the function as the access point’s user and group', async () => {
    harness = await startHarness();
    expect(await get('/whoami')).toEqual({ uid: 1001, gid: 1001 });
  });

  it('lets uid 1001 write in its access point but not where only root may write', async () => {
    harness = await startHarness();
    expect(await get('/write?name=mine')).toEqual({ written: true });
    expect(statSync(join(harness.api.efsRoot, 'data', 'mine')).uid).toBe(1001);
    // A directory inside the access point that belongs to root, mode 755: EACCES, as on EFS.
    const rootOwned = join(harness.api.efsRoot, 'data', 'root-only');
    mkdirSync(rootOwned, { mode: 0o755 });
    writeFileSync(join(rootOwned, 'existing'), 'x');
    expect(await get('/write?name=root-only/new')).toEqual({ written: false, code: 'EACCES' });
    expect(await get('/write?name=root-only/existing')).toEqual({ written: false, code: 'EACCES' });
  });

  it('runs as its own user, with one warning naming the directory, when the access point’s user cannot reach the EFS root', async () => {
    const locked = mkdtempSync(join(tmpdir(), 'local-runtime-locked-')); // mode 0700, owned by root
    const lines: string[] = [];
    const api = await startLocalApi({
      functions: [fixtureFunction()],
      efsRoot: join(locked, 'efs'),
      port: 0,
      logSink: (line) => lines.push(line),
    });
    try {
      const response = await fetch(`${api.url}/pid`);
      expect(response.status).toBe(200);
      const warnings = lines.filter((line) => line.includes('cannot reach the EFS root'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`${locked} may not be entered`);
      expect(warnings[0]).toContain(`chmod o+x ${locked}`);
    } finally {
      await api.close();
      rmSync(locked, { recursive: true, force: true });
    }
  });
});

describe.runIf(isRoot)('code the access point’s user cannot read', () => {
  it('runs as the runtime’s own user, with one warning, instead of failing every request', async () => {
    const locked = mkdtempSync(join(tmpdir(), 'local-runtime-code-')); // mode 0700: a private checkout
    const efsRoot = tempDir('local-runtime-efs-');
    copyFileSync(fileURLToPath(new URL('../fixtures/handler.mjs', import.meta.url)), join(locked, 'handler.mjs'));
    const lines: string[] = [];
    const api = await startLocalApi({
      functions: [fixtureFunction({ entry: join(locked, 'handler.mjs') })],
      efsRoot,
      port: 0,
      logSink: (line) => lines.push(line),
    });
    try {
      expect((await fetch(`${api.url}/pid`)).status).toBe(200);
      const warnings = lines.filter((line) => line.includes('cannot reach the function code'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`chmod o+x ${locked}`);
    } finally {
      await api.close();
      rmSync(locked, { recursive: true, force: true });
      rmSync(efsRoot, { recursive: true, force: true });
    }
  });
});

describe.runIf(isRoot)('a Node.js the access point’s user cannot run', () => {
  it('runs the function as the runtime’s own user, with one warning, instead of failing every request', async () => {
    // Node.js under a private directory, as a CI clone's own Node.js in a mktemp dir or nvm in a 0700 home.
    const locked = mkdtempSync(join(tmpdir(), 'local-runtime-node-'));
    const efsRoot = tempDir('local-runtime-efs-');
    const node = join(locked, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
    const runner = join(locked, 'runner.mjs');
    const dist = new URL('../../dist/index.js', import.meta.url).href;
    writeFileSync(
      runner,
      `import { startLocalApi } from ${JSON.stringify(dist)};
const lines = [];
const api = await startLocalApi({ functions: [JSON.parse(process.argv[2])], efsRoot: process.argv[3], port: 0, watch: false, logSink: (line) => lines.push(line) });
const status = (await fetch(api.url + '/pid')).status;
await api.close();
console.log(JSON.stringify({ status, lines }));`,
    );
    try {
      const output = execFileSync(node, [runner, JSON.stringify(fixtureFunction()), efsRoot], { encoding: 'utf8' });
      const { status, lines } = JSON.parse(output) as { status: number; lines: string[] };
      expect(status).toBe(200);
      const warnings = lines.filter((line) => line.includes('cannot reach Node.js'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`chmod o+x ${locked}`);
    } finally {
      rmSync(locked, { recursive: true, force: true });
      rmSync(efsRoot, { recursive: true, force: true });
    }
  });
});

describe('the runtime’s user', () => {
  it('warns once when it cannot take on the access points’ users (not root), never when it can', async () => {
    harness = await startHarness();
    await get('/pid');
    const warnings = harness.lines.filter((line) => line.includes('not running as root'));
    expect(warnings).toHaveLength(isRoot ? 0 : 1);
  });
});
