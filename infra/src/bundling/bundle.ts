// Turns each function's compiled entry into the deployment package Lambda runs: one ES module named
// LAMBDA_BUNDLE_FILE_NAME (`handler.mjs`) bundled by esbuild, in a deterministic zip.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, sep } from 'node:path';

import { LAMBDA_BUNDLE_FILE_NAME, type FunctionDefinition, type Runtime } from '@lambda-efs/function-spec';
import { build, type Message } from 'esbuild';

import { BundleError, MissingEntryError } from '../errors.js';
import { createZip } from './zip.js';

/** A function's deployment package, ready for `aws_lambda_function.filename`. */
export interface FunctionBundle {
  readonly functionName: string;
  /** Absolute path of the zip. */
  readonly zipPath: string;
  /** SHA-256 of the zip, base64: Lambda's `CodeSha256`, used as `source_code_hash`. */
  readonly sha256Base64: string;
  /** The same hash in hex (asset folder names). */
  readonly sha256Hex: string;
  /** Size of the zip in bytes. */
  readonly bytes: number;
}

export interface BundleOptions {
  /** Where bundles are written, one folder per function. */
  readonly outDir: string;
  /** Modules left out of the bundle (esbuild `external`). @default [] */
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
 * Bundles one function: esbuild (ESM, platform node, the runtime's Node version) into
 * `handler.mjs`, zipped deterministically as `<outDir>/<name>/handler.zip`.
 * @throws {MissingEntryError} when `entry` does not exist (naming the build command).
 * @throws {BundleError} when esbuild fails (an unresolved import, a syntax error).
 */
export async function bundleFunction(fn: FunctionDefinition, options: BundleOptions): Promise<FunctionBundle> {
  if (!existsSync(fn.entry)) throw new MissingEntryError(fn.name, fn.entry, buildCommandFor(fn.entry));
  const folder = join(options.outDir, fn.name);
  let code: Uint8Array;
  try {
    const result = await build({
      entryPoints: [fn.entry],
      // Relative to the entry, so the path comments esbuild writes are the same on every machine.
      absWorkingDir: dirname(fn.entry),
      outfile: join(folder, LAMBDA_BUNDLE_FILE_NAME),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: esbuildTarget(fn.runtime),
      external: [...(options.externalModules ?? [])],
      banner: { js: REQUIRE_SHIM },
      write: false,
      logLevel: 'silent',
    });
    const output = result.outputFiles[0];
    if (output === undefined) throw new Error('esbuild produced no output file');
    code = output.contents;
  } catch (error) {
    const messages = (error as { errors?: readonly Message[] }).errors;
    const details =
      messages !== undefined && messages.length > 0
        ? messages.map((message) => `${message.location?.file ?? fn.entry}: ${message.text}`).join('; ')
        : error instanceof Error
          ? error.message
          : String(error);
    throw new BundleError(fn.name, details, { cause: error });
  }

  const zip = createZip([{ name: LAMBDA_BUNDLE_FILE_NAME, data: Buffer.from(code) }]);
  mkdirSync(folder, { recursive: true });
  const zipPath = join(folder, 'handler.zip');
  writeFileSync(join(folder, LAMBDA_BUNDLE_FILE_NAME), code);
  writeFileSync(zipPath, zip);
  const digest = createHash('sha256').update(zip).digest();
  return {
    functionName: fn.name,
    zipPath,
    sha256Base64: digest.toString('base64'),
    sha256Hex: digest.toString('hex'),
    bytes: zip.length,
  };
}

/** Bundles every function, concurrently; the result is keyed by function name. */
export async function bundleFunctions(
  functions: readonly FunctionDefinition[],
  options: BundleOptions,
): Promise<ReadonlyMap<string, FunctionBundle>> {
  const bundles = await Promise.all(functions.map((fn) => bundleFunction(fn, options)));
  return new Map(bundles.map((bundle) => [bundle.functionName, bundle]));
}
