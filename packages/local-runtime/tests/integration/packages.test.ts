// Functions served from deployment packages: a TypeScript fixture bundled by esbuild with a source
// map and zipped with a node_modules/ (an executable, a symlink, a module), as infra ships the apps.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { build } from 'esbuild';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { InvalidOptionError, InvalidPackageError, startLocalApi } from '../../src/index.js';
import { bodyOf, eventually, fixtureFunction, isRoot, startHarness, tempDir, type Harness } from '../helpers/runtime.js';
import { makeZip, type TestZipEntry } from '../helpers/zip.js';

const SOURCE = fileURLToPath(new URL('../fixtures/bundle/bundled-function.ts', import.meta.url));
// The line of the `throw` in the TypeScript source: where a mapped stack trace must point.
const THROW_LINE =
  readFileSync(SOURCE, 'utf8')
    .split('\n')
    .findIndex((line) => line.includes('throw new Error(message)')) + 1;

/** The fixture bundled as infra bundles a function: handler.mjs + handler.mjs.map. */
async function bundle(version: string): Promise<TestZipEntry[]> {
  const result = await build({
    entryPoints: [SOURCE],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: join(tempDir('local-runtime-esbuild-'), 'handler.mjs'),
    sourcemap: true,
    define: { __VERSION__: JSON.stringify(version) },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles.map((file) => ({ name: basename(file.path), data: Buffer.from(file.contents) }));
}

/** What the native-module stand-in ships: modes and a symlink as a real addon's package has them. */
const NODE_MODULES: TestZipEntry[] = [
  { name: 'node_modules/', mode: 0o040755 },
  { name: 'node_modules/fake-native/package.json', data: JSON.stringify({ name: 'fake-native', main: 'index.js' }) },
  { name: 'node_modules/fake-native/index.js', data: 'exports.answer = 42;\n' },
  { name: 'node_modules/fake-native/bin/tool', data: '#!/bin/sh\necho tool ran\n', mode: 0o100755 },
  { name: 'node_modules/fake-native/lib/libfake.so.1', data: 'ELF-ish library', method: 'stored' },
  { name: 'node_modules/fake-native/lib/libfake.so', data: 'libfake.so.1', mode: 0o120777 },
];

const dirs: string[] = [];
let zipDir: string;
let zipPath: string;
let zip: Buffer;
let harness: Harness;
let lambda: LambdaClient;

function packagedFunction(name = 'bundled') {
  // The entry was never built: a packaged function runs from its zip alone.
  return fixtureFunction({ name, entry: join(zipDir, 'not-built', 'handler.js'), timeoutSeconds: 10 });
}

beforeAll(async () => {
  zipDir = tempDir('local-runtime-packages-');
  dirs.push(zipDir);
  zipPath = join(zipDir, 'bundled', 'handler.zip');
  zip = makeZip([...(await bundle('v1')), ...NODE_MODULES]);
  writeZip(zipPath, zip);
  harness = await startHarness({ functions: [packagedFunction()], packages: new Map([['bundled', zipPath]]), invokePort: 0, watch: true });
  lambda = new LambdaClient({
    endpoint: harness.api.invokeUrl ?? '',
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  lambda.destroy();
  await harness.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function writeZip(path: string, data: Buffer): void {
  mkdirSync(join(path, '..'), { recursive: true });
  // Written aside and renamed, as a bundler should: the watcher never sees half a zip.
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

interface Info {
  readonly version: string;
  readonly cwd: string;
  readonly taskRoot: string;
  readonly handler: string;
  readonly execArgv: string[];
  readonly uid: number;
}

async function invoke(event: unknown): Promise<{ error: string | undefined; value: unknown }> {
  const output = await lambda.send(new InvokeCommand({ FunctionName: 'bundled', Payload: Buffer.from(JSON.stringify(event)) }));
  return { error: output.FunctionError, value: JSON.parse(Buffer.from(output.Payload ?? new Uint8Array()).toString('utf8')) };
}

describe('serving deployment packages (packages)', () => {
  it('runs handler.mjs from the zip, extracted into a task directory named by its SHA-256', async () => {
    const info = await bodyOf<Info>(fetch(`${harness.api.url}/info`));
    const taskDir = harness.api.taskDirectories.get('bundled');
    expect(taskDir).toBeDefined();
    expect(basename(taskDir ?? '')).toBe(createHash('sha256').update(zip).digest('hex'));
    expect(info).toMatchObject({ version: 'v1', cwd: taskDir, taskRoot: taskDir, handler: 'handler.handler' });
    expect(info.execArgv).toContain('--enable-source-maps');
    // As root, the function runs as the access point's user: the task directory is readable by it.
    if (isRoot) expect(info.uid).toBe(1001);
  });

  it('logs stack traces that point into the TypeScript sources', async () => {
    const { error, value } = await invoke({ action: 'throw' });
    expect(error).toBe('Unhandled');
    const trace = (value as { trace: string[] }).trace.join('\n');
    expect(trace).toContain(`bundled-function.ts:${THROW_LINE}:`);
    expect(trace).not.toMatch(/handler\.mjs:\d+/);
    const logged = harness.lines.find((line) => line.includes('Invoke Error') && line.includes('thrown from TypeScript'));
    expect(logged).toContain(`bundled-function.ts:${THROW_LINE}:`);
  });

  it("keeps file modes and symlinks, and resolves modules from the package's node_modules", async () => {
    const { error, value } = await invoke({ action: 'native' });
    expect(error).toBeUndefined();
    expect(value).toEqual({ tool: 'tool ran\n', library: 'ELF-ish library', answer: 42 });
    const taskDir = harness.api.taskDirectories.get('bundled') ?? '';
    const modules = join(taskDir, 'node_modules', 'fake-native');
    expect(statSync(join(modules, 'bin', 'tool')).mode & 0o777).toBe(0o755);
    expect(statSync(join(modules, 'index.js')).mode & 0o777).toBe(0o644);
    expect(statSync(join(taskDir, 'handler.mjs')).mode & 0o777).toBe(0o644);
    expect(lstatSync(join(modules, 'lib', 'libfake.so')).isSymbolicLink()).toBe(true);
    expect(statSync(join(taskDir, 'node_modules')).mode & 0o777).toBe(0o755);
  });

  it('extracts a rebuilt zip into a fresh directory and recycles the environments', async () => {
    const before = harness.api.taskDirectories.get('bundled') ?? '';
    const rebuilt = makeZip([...(await bundle('v2')), ...NODE_MODULES]);
    writeZip(zipPath, rebuilt);
    await eventually(() => harness.lines.some((line) => line.includes('bundled: deployment package changed')));
    await eventually(() => harness.api.environmentPids('bundled').length === 0);
    const info = await bodyOf<Info>(fetch(`${harness.api.url}/info`));
    expect(info.version).toBe('v2');
    expect(info.taskRoot).not.toBe(before);
    expect(basename(info.taskRoot)).toBe(createHash('sha256').update(rebuilt).digest('hex'));
    // Environments still running the old package keep their directory.
    expect(existsSync(before)).toBe(true);
  });
});

describe('refusing deployment packages', () => {
  const started: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const api of started.splice(0)) await api.close();
  });

  async function startWith(name: string, entries: TestZipEntry[] | undefined): Promise<unknown> {
    const dir = tempDir('local-runtime-bad-package-');
    dirs.push(dir);
    const path = join(dir, name, 'handler.zip');
    if (entries !== undefined) writeZip(path, makeZip(entries));
    try {
      started.push(
        await startLocalApi({
          functions: [packagedFunction(name)],
          packages: new Map([[name, path]]),
          efsRoot: join(dir, 'efs'),
          port: 0,
          watch: false,
          logSink: () => {},
        }),
      );
    } catch (error) {
      return error;
    }
    throw new Error('the runtime started');
  }

  it('refuses to start on an archive with a ../ entry, naming it, and writes nothing', async () => {
    const error = await startWith('escape', [
      { name: 'handler.mjs', data: 'export const handler = () => 1;' },
      { name: '../escaped', data: 'x' },
    ]);
    expect(error).toBeInstanceOf(InvalidPackageError);
    expect((error as Error).message).toMatch(
      /Function "escape": the deployment package \S+handler\.zip has an entry "\.\.\/escaped" with "\.\."/,
    );
    const functionDir = join(harness.api.taskDirectories.get('bundled') ?? '', '..', '..', 'escape');
    expect(existsSync(join(functionDir, 'escaped')) || existsSync(join(functionDir, '..', 'escaped'))).toBe(false);
    expect(existsSync(functionDir) ? readdirSync(functionDir) : []).toEqual([]);
  });

  it('refuses an archive with a symlink out of the package', async () => {
    const error = await startWith('link-out', [
      { name: 'handler.mjs', data: 'export const handler = () => 1;' },
      { name: 'node_modules/x', data: '/etc/passwd', mode: 0o120777 },
    ]);
    expect((error as Error).message).toMatch(/"node_modules\/x" that is a symlink to an absolute path/);
  });

  it('refuses a package without handler.mjs at its root', async () => {
    const error = await startWith('no-handler', [{ name: 'src/handler.mjs', data: 'export const handler = () => 1;' }]);
    expect(error).toBeInstanceOf(InvalidPackageError);
    expect((error as Error).message).toMatch(/has no handler\.mjs file at its root/);
  });

  it('refuses a missing zip, saying how to build it', async () => {
    const error = await startWith('missing', undefined);
    expect(error).toBeInstanceOf(InvalidPackageError);
    expect((error as Error).message).toMatch(/handler\.zip does not exist\. Rebuild it with `pnpm bundle`/);
  });

  it("warns when the package's native addons are for another architecture than this machine's", async () => {
    const dir = tempDir('local-runtime-arch-');
    dirs.push(dir);
    const path = join(dir, 'foreign', 'handler.zip');
    writeZip(
      path,
      makeZip([
        { name: 'handler.mjs', data: 'export const handler = () => 1;' },
        { name: 'node_modules/x/build/x.node', data: 'ELF' },
      ]),
    );
    const lines: string[] = [];
    const foreign = process.arch === 'x64' ? 'arm64' : 'x86_64';
    started.push(
      await startLocalApi({
        functions: [fixtureFunction({ ...packagedFunction('foreign'), architecture: foreign })],
        packages: new Map([['foreign', path]]),
        efsRoot: join(dir, 'efs'),
        port: 0,
        watch: false,
        logSink: (line) => lines.push(line),
      }),
    );
    expect(lines.join('\n')).toContain(`foreign: its package holds native addons built for ${foreign} (node_modules/x/build/x.node…)`);
  });

  it('refuses a package for a function it does not serve', async () => {
    await expect(
      startLocalApi({ functions: [packagedFunction('served')], packages: new Map([['other', zipPath]]), port: 0, logSink: () => {} }),
    ).rejects.toThrow(InvalidOptionError);
  });
});
