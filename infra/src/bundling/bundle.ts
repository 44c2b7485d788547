// Turns each function's compiled entry into the deployment package Lambda runs: one ES module named
// LAMBDA_BUNDLE_FILE_NAME (`handler.mjs`) bundled by esbuild, its source map (`handler.mjs.map`),
// and, for native modules shipped in the package, `node_modules/` for the function's platform only,
// in a deterministic zip. Every import the bundle leaves out is checked against what the package
// or the file system will have, and the package against Lambda's size limits.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, sep } from 'node:path';

import {
  LAMBDA_BUNDLE_FILE_NAME,
  type Architecture,
  type FunctionDefinition,
  type NativeModuleSource,
  type Runtime,
} from '@lambda-efs/function-spec';
import { build, type Message, type Metafile } from 'esbuild';

import { BundleError, MissingEntryError, NativeModulesError } from '../errors.js';
import { collectPlatformNodeModules, type PlatformFile, type PlatformPackage } from './native-modules.js';
import { createZip, type ZipEntry } from './zip.js';

/** Lambda's limit on a zip uploaded directly (`filename`): 50 MB. Bigger ones go through S3. */
export const LAMBDA_DIRECT_UPLOAD_MAX_BYTES = 50 * 1024 * 1024;
/** Lambda's limit on a deployment package once extracted (layers included): 250 MB. */
const LAMBDA_UNZIPPED_MAX_BYTES = 250 * 1024 * 1024;
/** The source map's name, next to the bundle in the zip. */
const SOURCE_MAP_FILE_NAME = `${LAMBDA_BUNDLE_FILE_NAME}.map`;

/** A native module in (or expected next to) a deployment package. */
export interface BundledNativeModule {
  readonly name: string;
  readonly version: string;
  /** Where its files came from (a directory of the workspace's node_modules, e.g. pnpm's store). */
  readonly source: string;
  /** Its directory in the zip, e.g. `node_modules/sharp`. */
  readonly destination: string;
  /** The package that needs it; `null` for one the function declares. */
  readonly requiredBy: string | null;
}

/** A function's deployment package, ready for `aws_lambda_function.filename` (or an S3 object). */
export interface FunctionBundle {
  readonly functionName: string;
  /** The architecture whose native binaries the zip carries. */
  readonly architecture: Architecture;
  /** Absolute path of the zip. */
  readonly zipPath: string;
  /** SHA-256 of the zip, base64: Lambda's `CodeSha256`, used as `source_code_hash`. */
  readonly sha256Base64: string;
  /** The same hash in hex (asset folder names). */
  readonly sha256Hex: string;
  /**
   * SHA-256 (base64) of what the zip holds (each file's name and bytes, in order), independent of
   * how it was compressed: deflate output can differ between zlib builds (Node.js versions, CPUs
   * with or without SIMD), the files cannot. Use it as `source_code_hash` so that a deploy from
   * another machine does not update unchanged code.
   */
  readonly contentSha256Base64: string;
  /** Size of the zip in bytes. */
  readonly bytes: number;
  /** Size of the extracted files in bytes (Lambda allows {@link LAMBDA_UNZIPPED_MAX_BYTES}). */
  readonly unzippedBytes: number;
  /**
   * The zip is over {@link LAMBDA_DIRECT_UPLOAD_MAX_BYTES}: Lambda refuses it as a direct upload,
   * so it must be uploaded to S3 and referenced by `s3_bucket`/`s3_key`.
   */
  readonly uploadViaS3: boolean;
  /**
   * The function's native modules: `from: 'package'` lists what the zip carries under
   * `node_modules/` (declared packages and their runtime dependencies); `from: 'file-system'`
   * lists nothing (they come from the libraries directory, see `platformNodeModules`).
   */
  readonly nativeModules: {
    readonly from: NativeModuleSource;
    readonly declared: readonly string[];
    readonly packages: readonly BundledNativeModule[];
  };
}

export interface BundleOptions {
  /** Where bundles are written, one folder per function. */
  readonly outDir: string;
  /**
   * Modules the Lambda runtime provides (or whose absence the code handles): esbuild leaves them
   * out and the import check accepts them. Native modules belong in the declaration's
   * `nativeModules` instead. Patterns as esbuild's `external`.
   * @default []
   */
  readonly externalModules?: readonly string[];
}

// ESM bundles of CommonJS dependencies call require() for Node built-ins; ESM has no require.
const REQUIRE_SHIM =
  "import { createRequire as __lambdaEfsCreateRequire } from 'node:module';\n" +
  'const require = __lambdaEfsCreateRequire(import.meta.url);';

/** esbuild target for a Lambda runtime: `nodejs22.x` → `node22`. */
export function esbuildTarget(runtime: Runtime): string {
  return runtime.replace(/^nodejs(\d+)\.x$/, 'node$1');
}

/** The nearest package.json above `entry` that has a name: its directory and name; `null` when none. */
export function owningPackage(entry: string): { directory: string; name: string } | null {
  let directory = dirname(entry);
  for (;;) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest)) {
      try {
        const name: unknown = (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown }).name;
        if (typeof name === 'string' && name !== '') return { directory, name };
      } catch {
        // An unreadable package.json names no package: keep looking above it.
      }
    }
    const parent = dirname(directory);
    if (parent === directory) return null;
    directory = parent;
  }
}

/**
 * The command that builds the package an entry belongs to: `pnpm --filter <name> build` for the
 * nearest package.json above it, `pnpm build` when there is none.
 */
export function buildCommandFor(entry: string): string {
  const owner = owningPackage(entry);
  return owner === null ? 'pnpm build' : `pnpm --filter ${owner.name} build`;
}

/**
 * A warning when a compiled `entry` (under its package's `dist/`, where the apps' tsc writes) is
 * older than a file under the package's `src/`: the bundle would deploy code that is not the current
 * source. `null` when it is fresh, or not a compiled entry. Only the function's own package is
 * checked (workspace libraries it imports are not).
 */
export function staleEntryWarning(fn: Pick<FunctionDefinition, 'name' | 'entry'>): string | null {
  const owner = owningPackage(fn.entry);
  if (owner === null || !existsSync(fn.entry)) return null;
  if (!fn.entry.startsWith(join(owner.directory, 'dist') + sep)) return null;
  const built = statSync(fn.entry).mtimeMs;
  const newer = newestFile(join(owner.directory, 'src'));
  if (newer === null || newer.mtimeMs <= built) return null;
  return (
    `Function "${fn.name}": its handler ${fn.entry} is older than ${newer.path}, so the bundle would deploy stale code; ` +
    `run \`pnpm --filter ${owner.name} build\` (or \`pnpm build\`) and synthesize again.`
  );
}

function newestFile(directory: string): { path: string; mtimeMs: number } | null {
  let newest: { path: string; mtimeMs: number } | null = null;
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return null;
  }
  for (const entry of entries) {
    const path = join(directory, entry.name);
    const candidate = entry.isDirectory() ? newestFile(path) : entry.isFile() ? { path, mtimeMs: statSync(path).mtimeMs } : null;
    if (candidate !== null && (newest === null || candidate.mtimeMs > newest.mtimeMs)) newest = candidate;
  }
  return newest;
}

/** Splits functions into those whose entry exists and one {@link MissingEntryError} per other. */
export function checkEntries(functions: readonly FunctionDefinition[]): {
  built: FunctionDefinition[];
  missing: MissingEntryError[];
} {
  const built: FunctionDefinition[] = [];
  const missing: MissingEntryError[] = [];
  for (const fn of functions) {
    if (existsSync(fn.entry)) built.push(fn);
    else missing.push(new MissingEntryError(fn.name, fn.entry, buildCommandFor(fn.entry)));
  }
  return { built, missing };
}

/**
 * The directory the source map's paths are relative to: the workspace root (the nearest
 * pnpm-workspace.yaml above the entry), else the entry's package, else its directory. The same on
 * every machine, so the zip's hash is too.
 */
export function sourceRootFor(entry: string): string {
  let directory = dirname(entry);
  for (;;) {
    if (existsSync(join(directory, 'pnpm-workspace.yaml'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) break;
    directory = parent;
  }
  return owningPackage(entry)?.directory ?? dirname(entry);
}

/** Whether `specifier` names `pkg` or a path inside it (`sharp`, `sharp/lib/x.js`). */
function isPackageOrSubpath(specifier: string, pkg: string): boolean {
  return specifier === pkg || specifier.startsWith(`${pkg}/`);
}

function matchesExternalPattern(specifier: string, pattern: string): boolean {
  if (!pattern.includes('*')) return isPackageOrSubpath(specifier, pattern);
  const [prefix = '', suffix = ''] = pattern.split('*', 2);
  return specifier.startsWith(prefix) && specifier.endsWith(suffix) && specifier.length >= prefix.length + suffix.length;
}

const BUILTINS = new Set(builtinModules);

function isBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || BUILTINS.has(specifier) || BUILTINS.has(specifier.split('/')[0] ?? '');
}

/** A module the bundle imports but does not contain, and the file that imports it. */
export interface UnsatisfiedImport {
  readonly specifier: string;
  /** Relative to the source root, as esbuild names it. */
  readonly importer: string;
  readonly kind: string;
}

/**
 * The imports esbuild left out of a bundle that nothing will provide at run time: not a Node.js
 * built-in, not a declared native module (shipped in the package or on the file system), not a
 * module the runtime provides (`externalModules`).
 */
function unsatisfiedImports(
  metafile: Metafile,
  nativePackages: readonly string[],
  externalModules: readonly string[],
): UnsatisfiedImport[] {
  const found: UnsatisfiedImport[] = [];
  for (const importer of Object.keys(metafile.inputs).sort()) {
    for (const imported of metafile.inputs[importer]?.imports ?? []) {
      if (imported.external !== true) continue;
      const specifier = imported.path;
      if (isBuiltin(specifier)) continue;
      if (nativePackages.some((pkg) => isPackageOrSubpath(specifier, pkg))) continue;
      if (externalModules.some((pattern) => matchesExternalPattern(specifier, pattern))) continue;
      found.push({ specifier, importer, kind: imported.kind });
    }
  }
  return found;
}

/**
 * Bundles one function: esbuild (ESM, platform node, the runtime's Node version) into
 * `handler.mjs` with its source map, plus `node_modules/` for native modules shipped in the
 * package, zipped deterministically as `<outDir>/<name>/handler.zip`.
 * @throws {MissingEntryError} when `entry` does not exist (naming the build command).
 * @throws {BundleError} when esbuild fails, the bundle imports a module nothing provides (naming
 *   it and the importing file), or the package is over 250 MB unzipped.
 * @throws {NativeModulesError} when a declared native module is not installed.
 */
export async function bundleFunction(fn: FunctionDefinition, options: BundleOptions): Promise<FunctionBundle> {
  if (!existsSync(fn.entry)) throw new MissingEntryError(fn.name, fn.entry, buildCommandFor(fn.entry));
  const folder = join(options.outDir, fn.name);
  const sourceRoot = sourceRootFor(fn.entry);
  const externalModules = options.externalModules ?? [];
  const nativePackages = fn.nativeModules.packages;
  let code: Uint8Array;
  let map: Uint8Array;
  let metafile: Metafile;
  try {
    const result = await build({
      entryPoints: [fn.entry],
      // The output is placed (virtually: nothing is written) at the source root, so the paths in
      // the source map and esbuild's path comments are relative to it: the same on every machine.
      absWorkingDir: sourceRoot,
      outfile: join(sourceRoot, LAMBDA_BUNDLE_FILE_NAME),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: esbuildTarget(fn.runtime),
      external: [...nativePackages, ...nativePackages.map((pkg) => `${pkg}/*`), ...externalModules],
      banner: { js: REQUIRE_SHIM },
      // Stack traces point into the TypeScript (esbuild follows the compiled files' own maps) when
      // Node runs with --enable-source-maps. The sources stay out: the map only names them.
      sourcemap: 'linked',
      sourcesContent: false,
      metafile: true,
      write: false,
      logLevel: 'silent',
    });
    const output = result.outputFiles.find((file) => file.path.endsWith(LAMBDA_BUNDLE_FILE_NAME));
    const mapOutput = result.outputFiles.find((file) => file.path.endsWith(SOURCE_MAP_FILE_NAME));
    if (output === undefined || mapOutput === undefined) throw new Error('esbuild produced no bundle or no source map');
    code = output.contents;
    map = mapOutput.contents;
    metafile = result.metafile;
  } catch (error) {
    const messages = (error as { errors?: readonly Message[] }).errors;
    const details =
      messages !== undefined && messages.length > 0
        ? messages.map((message) => `${message.location?.file ?? fn.entry}: ${message.text}`).join('; ')
        : error instanceof Error
          ? error.message
          : String(error);
    const native = messages?.some((message) => /No loader is configured for "\.node" files/.test(message.text)) === true;
    throw new BundleError(fn.name, details, {
      cause: error,
      ...(native
        ? {
            hint:
              "A package with a native addon (.node) cannot be bundled: list it in the declaration's " +
              "nativeModules.packages (from: 'package' ships it in the zip, 'file-system' loads it from EFS).",
          }
        : {}),
    });
  }

  const unsatisfied = unsatisfiedImports(metafile, nativePackages, externalModules);
  if (unsatisfied.length > 0) {
    const list = unsatisfied.map((item) => `"${item.specifier}" (${item.kind} in ${item.importer})`).join(', ');
    throw new BundleError(
      fn.name,
      `the bundle imports ${list}, which neither the bundle, Node.js, the package nor the file system provides`,
      {
        hint:
          "Install the module in the function's package so that esbuild bundles it; or, for a package with native addons, list it in " +
          "the declaration's nativeModules.packages (from: 'package' ships it in the zip, 'file-system' loads it from the EFS " +
          'libraries directory); or, for a module the Lambda runtime provides, list it in config.functions.externalModules.',
      },
    );
  }

  let natives: readonly PlatformPackage[] = [];
  let files: readonly PlatformFile[] = [];
  if (fn.nativeModules.from === 'package' && nativePackages.length > 0) {
    const owner = owningPackage(fn.entry);
    try {
      const tree = collectPlatformNodeModules(nativePackages, {
        architecture: fn.architecture,
        resolveFrom: owner?.directory ?? dirname(fn.entry),
      });
      natives = tree.packages;
      files = tree.files;
    } catch (error) {
      if (error instanceof NativeModulesError) {
        throw new NativeModulesError(`function "${fn.name}": ${error.message.replace(/^Native modules: /, '')}`, { cause: error });
      }
      throw error;
    }
  }

  // Checked from the files' sizes, before reading hundreds of MB.
  const unzippedBytes = code.length + map.length + files.reduce((sum, file) => sum + file.bytes, 0);
  if (unzippedBytes > LAMBDA_UNZIPPED_MAX_BYTES) {
    throw new BundleError(
      fn.name,
      `the deployment package would be ${megabytes(unzippedBytes)} unzipped, over Lambda's limit of ${megabytes(LAMBDA_UNZIPPED_MAX_BYTES)} ` +
        `(largest: ${largest([{ path: LAMBDA_BUNDLE_FILE_NAME, bytes: code.length }, ...files])})`,
      {
        hint:
          "Load the native modules from the file system instead (nativeModules.from: 'file-system' in the declaration), " +
          'or drop dependencies the handler does not need.',
      },
    );
  }
  const entries: ZipEntry[] = [
    { name: LAMBDA_BUNDLE_FILE_NAME, data: Buffer.from(code) },
    { name: SOURCE_MAP_FILE_NAME, data: Buffer.from(map) },
    ...files.map((file) => ({ name: file.path, data: readFileSync(file.source) })),
  ];
  const zip = createZip(entries);
  mkdirSync(folder, { recursive: true });
  const zipPath = join(folder, 'handler.zip');
  writeFileSync(join(folder, LAMBDA_BUNDLE_FILE_NAME), code);
  writeFileSync(join(folder, SOURCE_MAP_FILE_NAME), map);
  writeFileSync(zipPath, zip);
  const digest = createHash('sha256').update(zip).digest();
  const content = createHash('sha256');
  for (const entry of entries) {
    // Length-prefixed, so that no two different file lists hash alike.
    const name = Buffer.from(entry.name, 'utf8');
    content.update(`${name.length}:`).update(name).update(`${entry.data.length}:`).update(entry.data);
  }
  return {
    functionName: fn.name,
    architecture: fn.architecture,
    zipPath,
    sha256Base64: digest.toString('base64'),
    sha256Hex: digest.toString('hex'),
    contentSha256Base64: content.digest('base64'),
    bytes: zip.length,
    unzippedBytes,
    uploadViaS3: zip.length > LAMBDA_DIRECT_UPLOAD_MAX_BYTES,
    nativeModules: {
      from: fn.nativeModules.from,
      declared: nativePackages,
      packages: natives.map(({ name, version, source, destination, requiredBy }) => ({ name, version, source, destination, requiredBy })),
    },
  };
}

/** Bundles every function, one after the other (each may compress tens of MB); keyed by function name. */
export async function bundleFunctions(
  functions: readonly FunctionDefinition[],
  options: BundleOptions,
): Promise<ReadonlyMap<string, FunctionBundle>> {
  const bundles = new Map<string, FunctionBundle>();
  for (const fn of functions) bundles.set(fn.name, await bundleFunction(fn, options));
  return bundles;
}

/** `12.3 MB` (MiB, as Lambda's limits are). */
export function megabytes(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function largest(files: readonly { path: string; bytes: number }[]): string {
  const byPackage = new Map<string, number>();
  for (const file of files) {
    const parts = file.path.split('/');
    const key =
      parts[0] === 'node_modules' ? parts.slice(0, parts[1]?.startsWith('@') === true ? 3 : 2).join('/') : (parts[0] ?? file.path);
    byPackage.set(key, (byPackage.get(key) ?? 0) + file.bytes);
  }
  return [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([name, bytes]) => `${name} ${megabytes(bytes)}`)
    .join(', ');
}
