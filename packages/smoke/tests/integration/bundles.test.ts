// What ships is what is tested: the deployment zips infra builds (its own bundler, the functions
// its stack deploys, as declared: deployed variants, native modules for the declared platform),
// served by the local runtime from those zips (extracted into task directories, handler.mjs run
// with --enable-source-maps) and checked by `pnpm smoke`: the post's session, a classification and
// the web page with its script.
// CI runs this file a second time on Node.js 22, Lambda's nodejs22.x.
import { existsSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { defineFunction, type FunctionDefinition } from '@lambda-efs/function-spec';
import { bundleFunctions, type FunctionBundle } from '@lambda-efs/infra/dist/bundling/bundle.js';
import { appSystem } from '@lambda-efs/infra/dist/system.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runSmokeCli, startSystem, type TestSystem } from '../helpers/system.js';

let outDir: string;
let served: FunctionDefinition[];
let bundles: ReadonlyMap<string, FunctionBundle>;
let system: TestSystem;
/** What infra deploys. */
const deployed = appSystem();

/**
 * The functions infra deploys behind the HTTP API. Their native binaries must run on this machine:
 * on an arm64 host the x86_64 declaration is bundled for arm64 instead (same code, other binaries).
 */
function routedFunctions(): FunctionDefinition[] {
  const hostArchitecture = process.arch === 'arm64' ? 'arm64' : 'x86_64';
  return deployed.functions
    .filter((fn) => fn.routes.length > 0)
    .map((fn) =>
      fn.nativeModules.packages.length > 0 && fn.architecture !== hostArchitecture
        ? defineFunction({ ...fn, architecture: hostArchitecture })
        : fn,
    );
}

beforeAll(async () => {
  outDir = await mkdtemp(join(tmpdir(), 'smoke-bundles-'));
  served = routedFunctions();
  bundles = await bundleFunctions(served, { outDir });
  system = await startSystem({
    functions: served,
    accessPoints: deployed.accessPoints.filter((accessPoint) => served.some((fn) => fn.fileSystem?.accessPoint.name === accessPoint.name)),
    packages: new Map([...bundles].map(([name, bundle]) => [name, bundle.zipPath])),
  });
}, 300_000);

afterAll(async () => {
  await system?.close();
  if (outDir !== undefined) await rm(outDir, { recursive: true, force: true });
});

describe('the shipped deployment packages on the local runtime', () => {
  it('bundles every function the HTTP API routes to, message-wall, ml-inference and web among them', () => {
    expect(served.map((fn) => fn.name)).toEqual(expect.arrayContaining(['message-wall', 'ml-inference', 'web']));
    for (const [name, bundle] of bundles) {
      expect(bundle.zipPath, name).toBe(join(outDir, name, 'handler.zip'));
      expect(system.api.taskDirectories.get(name), name).toBeDefined();
    }
  });

  it("passes the smoke test: the post's session on a fresh wall, the 405, a classification of the sample and the web page", async () => {
    const result = await runSmokeCli([system.url]);
    expect(result.code, `${result.stdout}\n${result.stderr}\n${system.logs.slice(-40).join('\n')}`).toBe(0);
    expect(result.stdout).toMatch(/PASSED, 10 steps passed/);
    expect(result.stdout).toMatch(
      /8 +POST an image \(sample\.jpg\): its class +POST \/ml-inference +passed +200 +\d+ ms +red 0\.\d\d, model demo 1\.0\.0$/m,
    );
    // The page and its script from web's zip: the site is embedded in handler.mjs.
    expect(result.stdout).toMatch(
      /^9 +GET the web page: CSP, nosniff, no-cache +GET \/ +passed +200 +\d+ ms +script \/assets\/app\.[0-9a-f]{8}\.js$/m,
    );
    expect(result.stdout).toMatch(
      /^10 +GET its script: JavaScript, immutable +GET \/assets\/app\.[0-9a-f]{8}\.js +passed +200 +\d+ ms +\d+ bytes, max-age 31536000 immutable$/m,
    );
  });

  it('answered from the extracted zips, with source maps on, natives from the package', () => {
    for (const fn of served) {
      const taskDir = system.api.taskDirectories.get(fn.name) ?? '?';
      const pids = system.api.environmentPids(fn.name);
      expect(pids.length, `${fn.name} has a live environment`).toBeGreaterThan(0);
      for (const pid of pids) {
        expect(readlinkSync(`/proc/${pid}/cwd`), fn.name).toBe(taskDir);
        expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0'), fn.name).toContain('--enable-source-maps');
      }
      expect(existsSync(join(taskDir, 'handler.mjs')), fn.name).toBe(true);
      expect(existsSync(join(taskDir, 'handler.mjs.map')), fn.name).toBe(true);
    }
    const mlTask = system.api.taskDirectories.get('ml-inference') ?? '?';
    // NODE_MODULES_DIR (the file system's libraries) does not exist here: onnxruntime-node and
    // sharp came from the package, as with the default `nativeModules.from: 'package'`.
    expect(existsSync(join(system.efsRoot, 'ml', 'node_modules'))).toBe(false);
    expect(existsSync(join(mlTask, 'node_modules', 'onnxruntime-node', 'package.json'))).toBe(true);
    expect(existsSync(join(mlTask, 'node_modules', 'sharp', 'package.json'))).toBe(true);
  });
});
