// The native modules a function declares (function-spec `nativeModules`), gathered from the
// workspace's node_modules for one Lambda platform: each package and its runtime dependencies
// (dependencies, and the optional ones whose os/cpu/libc match linux, the architecture and
// glibc), with every other platform's binaries left out. pnpm fetches the linux binaries of both
// architectures on any machine (supportedArchitectures in pnpm-workspace.yaml), so this works from
// macOS, Windows or Linux on either CPU.
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  realpathSync,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

import type { Architecture } from '@lambda-efs/function-spec';

import { NativeModulesError } from '../errors.js';
import { BINARY_HEADER_BYTES, belongsToPlatform, ELF_MACHINE } from './binary.js';

/** One package of a platform's node_modules. */
export interface PlatformPackage {
  readonly name: string;
  readonly version: string;
  /** Where it was found (the real directory, e.g. in pnpm's `node_modules/.pnpm/…`). */
  readonly source: string;
  /** Its place in the tree, `/`-separated: `node_modules/sharp`, or nested under its dependent on a version clash. */
  readonly destination: string;
  /** The package that needs it; `null` for a declared one. */
  readonly requiredBy: string | null;
}

/** One file of a platform's node_modules. */
export interface PlatformFile {
  /** `/`-separated path from the directory that holds `node_modules`. @example 'node_modules/sharp/lib/index.js' */
  readonly path: string;
  /** Absolute path of the file to copy. */
  readonly source: string;
  readonly bytes: number;
}

/** A platform's node_modules tree, before it is written anywhere. */
export interface PlatformNodeModules {
  readonly architecture: Architecture;
  readonly packages: readonly PlatformPackage[];
  /** Sorted by path. */
  readonly files: readonly PlatformFile[];
  /** Total size of the files. */
  readonly bytes: number;
}

export interface PlatformOptions {
  /** The function's architecture: linux x64 (`x86_64`) or linux arm64 (`arm64`), glibc. */
  readonly architecture: Architecture;
  /**
   * A directory from which the declared packages resolve as Node would (its `node_modules`, then
   * its parents'): the function's own package directory, whose package.json depends on them.
   */
  readonly resolveFrom: string;
}

const NPM_CPU: Readonly<Record<Architecture, string>> = { x86_64: 'x64', arm64: 'arm64' };
// Not needed at run time: TypeScript sources and declarations, source maps of the libraries.
const NOT_AT_RUN_TIME = /(?:\.d\.[cm]?ts|\.[cm]?ts|\.map)$/;

interface Manifest {
  readonly name?: unknown;
  readonly version?: unknown;
  readonly dependencies?: unknown;
  readonly optionalDependencies?: unknown;
  readonly os?: unknown;
  readonly cpu?: unknown;
  readonly libc?: unknown;
}

/**
 * The node_modules tree of `packages` for one Lambda platform: which packages (declared ones and
 * their runtime dependencies) and which files (the platform's binaries only).
 * @throws {NativeModulesError} when a package, or a dependency for this platform, is not installed.
 * @example collectPlatformNodeModules(['onnxruntime-node', 'sharp'], { architecture: 'arm64', resolveFrom: 'apps/ml-inference' })
 */
export function collectPlatformNodeModules(packages: readonly string[], options: PlatformOptions): PlatformNodeModules {
  const cpu = NPM_CPU[options.architecture];
  const placed = new Map<string, PlatformPackage>(); // by destination
  const result: PlatformPackage[] = [];
  const queue: { name: string; from: string; parent: PlatformPackage | null; optional: boolean }[] = packages.map((name) => ({
    name,
    from: options.resolveFrom,
    parent: null,
    optional: false,
  }));
  while (queue.length > 0) {
    const item = queue.shift();
    if (item === undefined) break;
    const found = findPackage(item.name, item.from);
    if (found === null) {
      if (item.optional && !looksLikePlatformPackage(item.name, cpu)) continue;
      throw new NativeModulesError(
        item.parent === null
          ? `the native module "${item.name}" is not installed where ${options.resolveFrom} can resolve it. Add it to that package's dependencies (pnpm add ${item.name} --filter <package>) and run pnpm install.`
          : item.optional
            ? `"${item.name}", which ${item.parent.name} needs on linux-${cpu}, is not installed. Run pnpm install: pnpm-workspace.yaml's supportedArchitectures must list os linux, cpu ${cpu} and libc glibc, so that pnpm fetches the linux binaries on any machine.`
            : `"${item.name}", a dependency of ${item.parent.name} (${item.parent.source}), is not installed. Run pnpm install.`,
      );
    }
    const manifest = readManifest(found);
    if (item.optional && !matchesPlatform(manifest, cpu)) continue;
    const version = typeof manifest.version === 'string' ? manifest.version : 'unknown';
    // Hoisted to node_modules/<name> unless another version is there already: then nested under its dependent.
    let destination = `node_modules/${item.name}`;
    const there = placed.get(destination);
    if (there !== undefined && there.source !== found) {
      destination = `${item.parent?.destination ?? 'node_modules'}/node_modules/${item.name}`;
    }
    if (placed.get(destination)?.source === found) continue;
    const pkg: PlatformPackage = { name: item.name, version, source: found, destination, requiredBy: item.parent?.name ?? null };
    placed.set(destination, pkg);
    result.push(pkg);
    for (const name of Object.keys(record(manifest.dependencies))) queue.push({ name, from: found, parent: pkg, optional: false });
    for (const name of Object.keys(record(manifest.optionalDependencies))) {
      if (name in record(manifest.dependencies)) continue;
      queue.push({ name, from: found, parent: pkg, optional: true });
    }
  }

  const machine = ELF_MACHINE[options.architecture];
  const files: PlatformFile[] = [];
  for (const pkg of result) collectFiles(pkg.source, pkg.destination, machine, files, new Set());
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    architecture: options.architecture,
    packages: result,
    files,
    bytes: files.reduce((sum, file) => sum + file.bytes, 0),
  };
}

/**
 * Writes the node_modules tree of `packages` for one Lambda platform into `outDir/node_modules`
 * (replacing nothing: `outDir` must not hold a node_modules yet): the libraries archive a
 * function with `nativeModules.from: 'file-system'` loads through `NODE_MODULES_DIR`. Pack
 * `directory` with `@lambda-efs/efs-provisioner/archive`'s `packDirectory`.
 * @throws {NativeModulesError} when a package is missing, or outDir already has a node_modules.
 * @example
 * const { directory } = platformNodeModules(['onnxruntime-node', 'sharp'], { architecture: 'x86_64', resolveFrom, outDir });
 * const { archive, sha256Hex } = await packDirectory(directory);
 */
export function platformNodeModules(
  packages: readonly string[],
  options: PlatformOptions & { readonly outDir: string },
): PlatformNodeModules & { readonly directory: string; readonly nodeModulesDir: string } {
  const tree = collectPlatformNodeModules(packages, options);
  const nodeModulesDir = join(options.outDir, 'node_modules');
  if (existsSync(nodeModulesDir)) {
    throw new NativeModulesError(`${nodeModulesDir} exists already; give an empty output directory (or remove it first).`);
  }
  for (const file of tree.files) {
    const target = join(options.outDir, ...file.path.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file.source, target);
  }
  mkdirSync(nodeModulesDir, { recursive: true });
  return { ...tree, directory: options.outDir, nodeModulesDir };
}

/** Node's lookup of a package directory: `<dir>/node_modules/<name>`, then each parent's; its real path. */
function findPackage(name: string, from: string): string | null {
  let directory = from;
  for (;;) {
    const candidate = join(directory, 'node_modules', ...name.split('/'));
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    const parent = dirname(directory);
    if (parent === directory) return null;
    directory = parent;
  }
}

function readManifest(directory: string): Manifest {
  try {
    return JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')) as Manifest;
  } catch (error) {
    throw new NativeModulesError(`${join(directory, 'package.json')} cannot be read as JSON; reinstall it (pnpm install --force).`, {
      cause: error,
    });
  }
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** npm's os/cpu/libc rule: a list of allowed values, or of `!`-negated excluded ones; absent: any. */
function allows(field: unknown, value: string): boolean {
  if (!Array.isArray(field) || field.length === 0) return true;
  const values = field.filter((entry): entry is string => typeof entry === 'string');
  if (values.includes(`!${value}`)) return false;
  const positive = values.filter((entry) => !entry.startsWith('!'));
  return positive.length === 0 || positive.includes(value);
}

function matchesPlatform(manifest: Manifest, cpu: string): boolean {
  return allows(manifest.os, 'linux') && allows(manifest.cpu, cpu) && allows(manifest.libc, 'glibc');
}

/** An optional dependency that is not installed matters only when its name says it is this platform's. */
function looksLikePlatformPackage(name: string, cpu: string): boolean {
  return name.includes(`linux-${cpu}`) && !name.includes('musl');
}

function collectFiles(directory: string, destination: string, machine: number, files: PlatformFile[], seen: Set<string>): void {
  const real = realpathSync(directory);
  if (seen.has(real)) return;
  seen.add(real);
  const names = readdirSync(directory).sort();
  for (const name of names) {
    if (name === 'node_modules') continue; // dependencies are placed on their own
    const path = join(directory, name);
    const stats = statSync(path);
    if (stats.isDirectory()) {
      collectFiles(path, `${destination}/${name}`, machine, files, seen);
    } else if (stats.isFile() && !NOT_AT_RUN_TIME.test(name) && belongsToPlatform(readHeader(path), name, machine)) {
      files.push({ path: `${destination}/${name}`, source: path, bytes: stats.size });
    }
  }
}

function readHeader(path: string): Buffer {
  const header = Buffer.alloc(BINARY_HEADER_BYTES);
  const fd = openSync(path, 'r');
  try {
    const read = readSync(fd, header, 0, header.length, 0);
    return header.subarray(0, read);
  } finally {
    closeSync(fd);
  }
}
