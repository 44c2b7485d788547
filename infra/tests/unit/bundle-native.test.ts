// Native modules in deployment packages, the import check, source maps and the size limits, on
// fake packages in a temporary workspace (ELF, Mach-O and PE headers written by hand) and the
// fixture handlers.
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

import { defineFunction, type FunctionSpec } from '@lambda-efs/function-spec';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { belongsToPlatform, binaryKind, ELF_MACHINE } from '../../src/bundling/binary.js';
import { bundleFunction, LAMBDA_DIRECT_UPLOAD_MAX_BYTES, sourceRootFor } from '../../src/bundling/bundle.js';
import { collectPlatformNodeModules, platformNodeModules } from '../../src/bundling/native-modules.js';
import { readZip } from '../../src/bundling/zip.js';
import { BundleError, NativeModulesError } from '../../src/errors.js';
import { temporaryDirectory } from '../helpers.js';

const work = temporaryDirectory('bundle-native');
afterAll(() => work.remove());

/** The first 20 bytes of an ELF file for `machine` (little-endian, 64-bit), padded with `filler`. */
function elf(machine: number, filler = 'x'): Buffer {
  const header = Buffer.alloc(64, 0);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2;
  header[5] = 1;
  header.writeUInt16LE(machine, 18);
  return Buffer.concat([header, Buffer.from(filler)]);
}
const MACH_O = Buffer.concat([Buffer.from([0xcf, 0xfa, 0xed, 0xfe]), Buffer.alloc(60)]);
const PE = Buffer.concat([Buffer.from('MZ'), Buffer.alloc(62)]);

function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

function manifest(dir: string, fields: Record<string, unknown>): void {
  write(join(dir, 'package.json'), JSON.stringify(fields));
}

/**
 * A pnpm-like workspace: an app whose handler loads `fake-native` at run time; fake-native has a
 * JS dependency, binaries of four platforms, and per-platform optional packages (one musl, one
 * for darwin that is not installed).
 */
function fakeWorkspace(root: string): string {
  write(join(root, 'pnpm-workspace.yaml'), 'packages: [app]\n');
  const app = join(root, 'app');
  manifest(app, { name: '@example/app', dependencies: { 'fake-native': '1.0.0' } });
  write(
    join(app, 'dist', 'handler.js'),
    "import { createRequire } from 'node:module';\n" +
      "export const handler = async () => createRequire(import.meta.url)('fake-native').platform();\n",
  );
  const store = join(root, 'node_modules', '.pnpm');
  const native = join(store, 'fake-native@1.0.0', 'node_modules', 'fake-native');
  manifest(native, {
    name: 'fake-native',
    version: '1.0.0',
    dependencies: { 'fake-dep': '2.0.0' },
    optionalDependencies: {
      '@fake/native-linux-x64': '1.0.0',
      '@fake/native-linux-arm64': '1.0.0',
      '@fake/native-linuxmusl-x64': '1.0.0',
      '@fake/native-darwin-arm64': '1.0.0',
    },
  });
  write(join(native, 'index.js'), "module.exports = { platform: () => require('fake-dep').name };\n");
  write(join(native, 'index.d.ts'), 'export declare function platform(): string;\n');
  write(join(native, 'bin', 'linux', 'x64', 'addon.node'), elf(ELF_MACHINE.x86_64));
  write(join(native, 'bin', 'linux', 'arm64', 'addon.node'), elf(ELF_MACHINE.arm64));
  write(join(native, 'bin', 'darwin', 'arm64', 'addon.node'), MACH_O);
  write(join(native, 'bin', 'darwin', 'arm64', 'libfake.dylib'), 'not even a Mach-O file');
  write(join(native, 'bin', 'win32', 'x64', 'addon.node'), PE);
  const dep = join(store, 'fake-native@1.0.0', 'node_modules', 'fake-dep');
  manifest(dep, { name: 'fake-dep', version: '2.0.0' });
  write(join(dep, 'index.js'), "module.exports = { name: 'fake-dep' };\n");
  for (const [name, fields, machine] of [
    ['native-linux-x64', { os: ['linux'], cpu: ['x64'], libc: ['glibc'] }, ELF_MACHINE.x86_64],
    ['native-linux-arm64', { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] }, ELF_MACHINE.arm64],
    ['native-linuxmusl-x64', { os: ['linux'], cpu: ['x64'], libc: ['musl'] }, ELF_MACHINE.x86_64],
  ] as const) {
    const dir = join(store, 'fake-native@1.0.0', 'node_modules', '@fake', name);
    manifest(dir, { name: `@fake/${name}`, version: '1.0.0', ...fields });
    write(join(dir, 'lib', 'libfake.so'), elf(machine, name));
  }
  // pnpm's layout: the app sees its direct dependency through a symlink into the store.
  mkdirSync(join(app, 'node_modules'), { recursive: true });
  symlinkSync(relative(join(app, 'node_modules'), native), join(app, 'node_modules', 'fake-native'));
  return app;
}

let app: string;
function fakeFunction(changes: Partial<FunctionSpec> = {}) {
  return defineFunction({
    name: 'fake',
    entry: join(app, 'dist', 'handler.js'),
    nativeModules: { packages: ['fake-native'] },
    ...changes,
  });
}

beforeAll(() => {
  app = fakeWorkspace(join(work.path, 'workspace'));
});

describe('binaryKind', () => {
  it('reads the machine of ELF files and recognises Mach-O and PE binaries', () => {
    expect(binaryKind(elf(62), 'a.node')).toEqual({ kind: 'elf', machine: 62 });
    expect(binaryKind(elf(183), 'libonnxruntime.so.1')).toEqual({ kind: 'elf', machine: 183 });
    expect(binaryKind(MACH_O, 'a.node')).toEqual({ kind: 'mach-o' });
    expect(binaryKind(PE, 'a.node')).toEqual({ kind: 'pe' });
    expect(binaryKind(Buffer.from('MZ is how this text starts'), 'README.md')).toEqual({ kind: 'other' });
  });

  it("keeps only the target machine's ELF files and drops other platforms' libraries", () => {
    expect(belongsToPlatform(elf(62), 'a.node', ELF_MACHINE.x86_64)).toBe(true);
    expect(belongsToPlatform(elf(183), 'a.node', ELF_MACHINE.x86_64)).toBe(false);
    expect(belongsToPlatform(MACH_O, 'a.node', ELF_MACHINE.arm64)).toBe(false);
    expect(belongsToPlatform(Buffer.from('text'), 'DirectML.dll', ELF_MACHINE.x86_64)).toBe(false);
    expect(belongsToPlatform(Buffer.from('module.exports = 1'), 'index.js', ELF_MACHINE.arm64)).toBe(true);
  });
});

describe('native modules in the deployment package', () => {
  it.each([
    ['x86_64', ELF_MACHINE.x86_64, 'native-linux-x64', 'linux/x64'],
    ['arm64', ELF_MACHINE.arm64, 'native-linux-arm64', 'linux/arm64'],
  ] as const)(
    'ships the %s binaries only, with the JS dependencies and the glibc platform package',
    async (architecture, machine, platformPackage, binDir) => {
      const bundle = await bundleFunction(fakeFunction({ architecture }), { outDir: join(work.path, `out-${architecture}`) });
      const entries = readZip(readFileSync(bundle.zipPath));
      const names = entries.map((entry) => entry.name);
      expect(names).toEqual([
        'handler.mjs',
        'handler.mjs.map',
        `node_modules/@fake/${platformPackage}/lib/libfake.so`,
        `node_modules/@fake/${platformPackage}/package.json`,
        `node_modules/fake-dep/index.js`,
        `node_modules/fake-dep/package.json`,
        `node_modules/fake-native/bin/${binDir}/addon.node`,
        'node_modules/fake-native/index.js',
        'node_modules/fake-native/package.json',
      ]);
      for (const entry of entries.filter((e) => /\.(?:node|so)$/.test(e.name))) {
        expect(binaryKind(entry.data, entry.name)).toEqual({ kind: 'elf', machine });
      }
      expect(bundle.architecture).toBe(architecture);
      expect(bundle.nativeModules).toMatchObject({ from: 'package', declared: ['fake-native'] });
      expect(bundle.nativeModules.packages.map((pkg) => [pkg.name, pkg.version, pkg.requiredBy])).toEqual([
        ['fake-native', '1.0.0', null],
        ['fake-dep', '2.0.0', 'fake-native'],
        [`@fake/${platformPackage}`, '1.0.0', 'fake-native'],
      ]);
      expect(bundle.unzippedBytes).toBe(entries.reduce((sum, entry) => sum + entry.data.length, 0));
      expect(bundle.uploadViaS3).toBe(false);
    },
  );

  it('loads the shipped module from the extracted package through createRequire(import.meta.url)', async () => {
    const bundle = await bundleFunction(fakeFunction(), { outDir: join(work.path, 'out-run') });
    const task = join(work.path, 'task-run');
    for (const entry of readZip(readFileSync(bundle.zipPath))) write(join(task, entry.name), entry.data);
    const run = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { handler } = await import(${JSON.stringify(join(task, 'handler.mjs'))}); console.log(await handler());`,
      ],
      {
        cwd: task,
        encoding: 'utf8',
      },
    );
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe('fake-dep\n');
  });

  it('leaves the packages out when they come from the file system', async () => {
    const { messageAccessPoint } = await import('../fixtures/system.js');
    const bundle = await bundleFunction(
      fakeFunction({
        nativeModules: { packages: ['fake-native'], from: 'file-system' },
        fileSystem: { accessPoint: messageAccessPoint, mountPath: '/mnt/msg' },
      }),
      { outDir: join(work.path, 'out-fs') },
    );
    expect(readZip(readFileSync(bundle.zipPath)).map((entry) => entry.name)).toEqual(['handler.mjs', 'handler.mjs.map']);
    expect(bundle.nativeModules).toEqual({ from: 'file-system', declared: ['fake-native'], packages: [] });
  });

  it('gives the same zip from a copy of the workspace elsewhere (no machine paths)', async () => {
    const copy = join(work.path, 'elsewhere', 'deeper', 'workspace');
    cpSync(join(work.path, 'workspace'), copy, { recursive: true, verbatimSymlinks: true });
    const first = await bundleFunction(fakeFunction(), { outDir: join(work.path, 'out-a') });
    const moved = defineFunction({ ...fakeFunction(), entry: join(copy, 'app', 'dist', 'handler.js') });
    const second = await bundleFunction(moved, { outDir: join(work.path, 'out-b') });
    expect(second.sha256Hex).toBe(first.sha256Hex);
    expect(second.contentSha256Base64).toBe(first.contentSha256Base64);
    expect(first.contentSha256Base64).not.toBe(first.sha256Base64);
    expect(readFileSync(first.zipPath).includes(Buffer.from(work.path))).toBe(false);
  });

  it('refuses a declared native module that is not installed, naming the function and the package', async () => {
    const error = await bundleFunction(fakeFunction({ nativeModules: { packages: ['fake-native', 'not-there'] } }), {
      outDir: join(work.path, 'out-missing'),
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NativeModulesError);
    expect((error as NativeModulesError).code).toBe('ENATIVEMODULES');
    expect((error as Error).message).toMatch(
      /^Native modules: function "fake": the native module "not-there" is not installed where .*app can resolve it\. Add it to that package's dependencies/,
    );
  });

  it('refuses a package whose linux binaries for the architecture were not fetched, pointing at supportedArchitectures', () => {
    const root = join(work.path, 'no-arm64');
    cpSync(join(work.path, 'workspace'), root, { recursive: true, verbatimSymlinks: true });
    const arm = join(root, 'node_modules', '.pnpm', 'fake-native@1.0.0', 'node_modules', '@fake', 'native-linux-arm64');
    spawnSync('rm', ['-rf', arm]);
    expect(collectPlatformNodeModules(['fake-native'], { architecture: 'x86_64', resolveFrom: join(root, 'app') }).packages).toHaveLength(
      3,
    );
    expect(() => collectPlatformNodeModules(['fake-native'], { architecture: 'arm64', resolveFrom: join(root, 'app') })).toThrow(
      /"@fake\/native-linux-arm64", which fake-native needs on linux-arm64, is not installed\. Run pnpm install: pnpm-workspace\.yaml's supportedArchitectures must list os linux, cpu arm64 and libc glibc/,
    );
  });

  it('refuses a package over 250 MB unzipped, naming the largest parts, before reading them', async () => {
    const root = join(work.path, 'huge');
    cpSync(join(work.path, 'workspace'), root, { recursive: true, verbatimSymlinks: true });
    // Sparse: 251 MB that take no disk space; the check must not read them.
    const big = join(root, 'node_modules', '.pnpm', 'fake-native@1.0.0', 'node_modules', 'fake-dep', 'weights.bin');
    writeFileSync(big, '');
    truncateSync(big, 251 * 1024 * 1024);
    const huge = defineFunction({ ...fakeFunction(), entry: join(root, 'app', 'dist', 'handler.js') });
    const error = await bundleFunction(huge, { outDir: join(work.path, 'out-huge') }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(
      /^Function "fake": bundling failed: the deployment package would be 251\.0 MB unzipped, over Lambda's limit of 250\.0 MB \(largest: node_modules\/fake-dep 251\.0 MB, .*\)\. Load the native modules from the file system instead \(nativeModules\.from: 'file-system'/,
    );
  });

  it('marks a zip over 50 MB as one to upload through S3', async () => {
    const root = join(work.path, 'big');
    cpSync(join(work.path, 'workspace'), root, { recursive: true, verbatimSymlinks: true });
    // Random bytes do not compress: the zip ends up just over the limit.
    const { randomBytes } = await import('node:crypto');
    write(
      join(root, 'node_modules', '.pnpm', 'fake-native@1.0.0', 'node_modules', 'fake-dep', 'weights.bin'),
      randomBytes(LAMBDA_DIRECT_UPLOAD_MAX_BYTES + 1024),
    );
    const bundle = await bundleFunction(defineFunction({ ...fakeFunction(), entry: join(root, 'app', 'dist', 'handler.js') }), {
      outDir: join(work.path, 'out-big'),
    });
    expect(bundle.bytes).toBeGreaterThan(LAMBDA_DIRECT_UPLOAD_MAX_BYTES);
    expect(bundle.uploadViaS3).toBe(true);
  }, 180_000); // compresses 50 MB on a shared machine
});

describe('platformNodeModules', () => {
  it('writes the node_modules tree of one platform into a directory, for the libraries archive', () => {
    const out = join(work.path, 'libraries-arm64');
    const result = platformNodeModules(['fake-native'], { architecture: 'arm64', resolveFrom: app, outDir: out });
    expect(result.directory).toBe(out);
    expect(result.nodeModulesDir).toBe(join(out, 'node_modules'));
    expect(binaryKind(readFileSync(join(out, 'node_modules', 'fake-native', 'bin', 'linux', 'arm64', 'addon.node')), 'addon.node')).toEqual(
      {
        kind: 'elf',
        machine: ELF_MACHINE.arm64,
      },
    );
    expect(result.files.map((file) => file.path)).not.toContain('node_modules/fake-native/bin/linux/x64/addon.node');
    expect(() => platformNodeModules(['fake-native'], { architecture: 'arm64', resolveFrom: app, outDir: out })).toThrow(
      /node_modules exists already/,
    );
  });
});

describe('the import check', () => {
  const handlers = new URL('../fixtures/handlers/', import.meta.url);

  it('refuses a require esbuild left in the bundle that the package will not have, naming it, the file and what to do', async () => {
    const fn = defineFunction({ name: 'optional', entry: new URL('optional-require.js', handlers) });
    const error = await bundleFunction(fn, { outDir: work.path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toBe(
      'Function "optional": bundling failed: the bundle imports "left-pad-but-not-installed" (require-call in infra/tests/fixtures/handlers/optional-require.js), ' +
        "which neither the bundle, Node.js, the package nor the file system provides. Install the module in the function's package so that esbuild bundles it; " +
        "or, for a package with native addons, list it in the declaration's nativeModules.packages (from: 'package' ships it in the zip, 'file-system' loads it " +
        'from the EFS libraries directory); or, for a module the Lambda runtime provides, list it in config.functions.externalModules.',
    );
  });

  it('accepts it when the runtime provides the module (externalModules)', async () => {
    const fn = defineFunction({ name: 'optional', entry: new URL('optional-require.js', handlers) });
    await expect(bundleFunction(fn, { outDir: work.path, externalModules: ['left-pad-but-not-installed'] })).resolves.toMatchObject({
      functionName: 'optional',
    });
  });

  it('refuses an undeclared native module the handler imports, naming the import and the file', async () => {
    const fn = defineFunction({ name: 'ml', entry: new URL('ml-inference.js', handlers), handlerExport: 'classify' });
    const error = await bundleFunction(fn, { outDir: work.path }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toMatch(
      /^Function "ml": bundling failed: infra\/tests\/fixtures\/handlers\/ml-inference\.js: Could not resolve "onnxruntime-node".* nativeModules/,
    );
  });

  it('accepts the import once the module is declared to come from the file system', async () => {
    const { mlAccessPoint } = await import('../fixtures/system.js');
    const fn = defineFunction({
      name: 'ml',
      entry: new URL('ml-inference.js', handlers),
      handlerExport: 'classify',
      fileSystem: { accessPoint: mlAccessPoint, mountPath: '/mnt/inference' },
      nativeModules: { packages: ['onnxruntime-node'], from: 'file-system' },
    });
    const bundle = await bundleFunction(fn, { outDir: work.path });
    expect(readFileSync(join(work.path, 'ml', 'handler.mjs'), 'utf8')).toContain('import("onnxruntime-node")');
    expect(bundle.nativeModules.from).toBe('file-system');
  });

  it('says to declare a package with a .node addon that esbuild tried to bundle', async () => {
    const root = join(work.path, 'addon');
    cpSync(join(work.path, 'workspace'), root, { recursive: true, verbatimSymlinks: true });
    write(join(root, 'app', 'dist', 'direct.js'), "import addon from './addon.node';\nexport const handler = async () => addon;\n");
    write(join(root, 'app', 'dist', 'addon.node'), elf(62));
    const fn = defineFunction({ name: 'direct', entry: join(root, 'app', 'dist', 'direct.js') });
    const error = await bundleFunction(fn, { outDir: work.path }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(
      /No loader is configured for "\.node" files.*A package with a native addon \(\.node\) cannot be bundled: list it in the declaration's nativeModules\.packages/,
    );
  });
});

describe('source maps', () => {
  it('ships handler.mjs.map with paths relative to the workspace, and stack traces point into the sources', async () => {
    const fn = defineFunction({ name: 'throws', entry: new URL('../fixtures/handlers/throws.js', import.meta.url) });
    const bundle = await bundleFunction(fn, { outDir: join(work.path, 'maps') });
    const entries = readZip(readFileSync(bundle.zipPath));
    const code = entries.find((entry) => entry.name === 'handler.mjs')?.data.toString('utf8') ?? '';
    expect(code.trimEnd().endsWith('//# sourceMappingURL=handler.mjs.map')).toBe(true);
    const map = JSON.parse(entries.find((entry) => entry.name === 'handler.mjs.map')?.data.toString('utf8') ?? '{}') as {
      sources: string[];
    };
    expect(map.sources).toEqual(['infra/tests/fixtures/handlers/lib/fail.js', 'infra/tests/fixtures/handlers/throws.js']);
    expect(sourceRootFor(fn.entry)).toBe(join(process.cwd(), '..'));

    const task = join(work.path, 'task-throws');
    for (const entry of entries) write(join(task, entry.name), entry.data);
    const run = spawnSync(
      process.execPath,
      [
        '--enable-source-maps',
        '--input-type=module',
        '-e',
        `const { handler } = await import(${JSON.stringify(join(task, 'handler.mjs'))}); await handler();`,
      ],
      { cwd: task, encoding: 'utf8' },
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('Error: no wall here');
    expect(run.stderr).toMatch(/at fail \(.*infra\/tests\/fixtures\/handlers\/lib\/fail\.js:2:9\)/);
    expect(run.stderr).toMatch(/at handler \(.*infra\/tests\/fixtures\/handlers\/throws\.js:5:/);
  });
});
