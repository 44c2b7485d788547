// The native libraries, onnxruntime-node and sharp, loaded from a node_modules directory on the
// file system when the function names one (the post's PYTHONPATH), otherwise from the deployment
// package. ESM ignores NODE_PATH, so both are resolved with createRequire: from the directory, or
// from this module's own location. Both packages are CommonJS with prebuilt binaries.
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import type * as OrtModule from 'onnxruntime-node';
import type SharpModule from 'sharp';

import { NativeLibraryError } from '../errors.js';

export type Ort = typeof OrtModule;
export type Sharp = typeof SharpModule;

export interface NativeLibraries {
  readonly ort: Ort;
  readonly sharp: Sharp;
  /** Where they came from: the NODE_MODULES_DIR directory, or `'bundle'`. */
  readonly from: string;
  readonly versions: { readonly onnxruntime: string; readonly sharp: string };
  readonly loadMs: number;
}

/** The packages and the versions this code is written and tested against (package.json pins them). */
export const NATIVE_PACKAGES = ['onnxruntime-node', 'sharp'] as const;

/**
 * What to do when NODE_MODULES_DIR (the libraries on EFS) is incomplete. Nobody populates it by
 * hand: with `nativeModules: { from: 'file-system' }`, infra builds the libraries release for the
 * declared architecture at synth and the provisioner installs it during the deploy.
 */
export const NATIVE_INSTALL_HINT =
  "The deploy installs this directory when the declaration says nativeModules: { from: 'file-system' }: infra builds the " +
  "libraries/linux-x64 (or linux-arm64) release for the function's architecture at synth, and the efs-provisioner installs it on " +
  'the access point and switches its current link. Run cdktf deploy again and read the provisioned_releases output, or declare ' +
  "nativeModules: { from: 'package' } (the default) to ship both in the deployment package (see apps/ml-inference/README.md).";

/** What to do when the deployment package (or the workspace) lacks a native library. */
const PACKAGE_HINT =
  "With nativeModules: { from: 'package' } (the default), infra's bundler puts it in node_modules/ next to handler.mjs, " +
  'built for the declared architecture (linux x64 or arm64, glibc): rebuild the package (pnpm bundle) and deploy it. Run from ' +
  "the workspace (pnpm start), it comes from pnpm install. With from: 'file-system', it is in NODE_MODULES_DIR once the deploy's " +
  'provisioner has installed the libraries release (NODE_MODULES_DIR unset, or not there yet, means the package).';

export interface LoadNativeOptions {
  /** A `node_modules` directory; undefined or absent: resolve from the deployment package. */
  readonly nodeModulesDir: string | undefined;
  /** libvips worker threads. @default libvips' own (one per core) */
  readonly threads?: number;
  /** Let libvips load SVG (librsvg). @default false */
  readonly allowSvg?: boolean;
}

/**
 * The libvips loaders the function accepts (JPEG, PNG, WebP, GIF, AVIF, TIFF, from memory); every
 * other loader (PDF, FITS, matrix, PPM, files…) is blocked, so the formats sniffing refuses can
 * never reach a decoder either.
 */
export const ALLOWED_LOADERS = [
  'VipsForeignLoadJpegBuffer',
  'VipsForeignLoadPngBuffer',
  'VipsForeignLoadWebpBuffer',
  'VipsForeignLoadNsgifBuffer',
  'VipsForeignLoadHeifBuffer',
  'VipsForeignLoadTiffBuffer',
] as const;

/**
 * Loads onnxruntime-node and sharp (synchronously: they are CommonJS with native addons). Throws
 * {@link NativeLibraryError} saying what is missing and how to install it.
 * @example
 * const { ort, sharp } = loadNativeLibraries({ nodeModulesDir: '/mnt/inference/node_modules' });
 */
export function loadNativeLibraries(options: LoadNativeOptions): NativeLibraries {
  const startedAt = performance.now();
  // The directory is optional (the architecture's `node_modules/` on EFS): when it does not exist,
  // the libraries come from the deployment package. When it exists, it must hold both.
  const dir = options.nodeModulesDir !== undefined && existsSync(options.nodeModulesDir) ? options.nodeModulesDir : undefined;
  let load: NodeJS.Require;
  if (dir === undefined) {
    load = createRequire(import.meta.url);
  } else {
    for (const name of NATIVE_PACKAGES) {
      if (!existsSync(join(dir, name, 'package.json'))) {
        throw new NativeLibraryError(
          `NODE_MODULES_DIR has no ${name} (no ${name}/package.json in the native libraries directory). ${NATIVE_INSTALL_HINT}`,
        );
      }
    }
    // A module "at" <dir>/… resolves bare names in <dir> first: Node does not append another
    // node_modules to a directory that is already called node_modules.
    load = createRequire(join(dir, '.lambda-efs-loader.cjs'));
  }
  const ort = requireNative<Ort>(load, 'onnxruntime-node', dir);
  const sharp = requireNative<Sharp>(load, 'sharp', dir);
  if (typeof ort.InferenceSession?.create !== 'function' || typeof sharp !== 'function') {
    throw new NativeLibraryError(
      `The onnxruntime-node or sharp found ${dir === undefined ? 'in the deployment package' : 'in NODE_MODULES_DIR'} does not have the expected API. ` +
        (dir === undefined ? PACKAGE_HINT : NATIVE_INSTALL_HINT),
    );
  }
  // One request at a time per environment: libvips' operation cache would only hold on to the
  // previous request's pixels.
  sharp.cache(false);
  // (A stand-in without block(), as unit tests use, is left as it is.)
  if (typeof sharp.block === 'function') {
    sharp.block({ operation: ['VipsForeignLoad'] });
    sharp.unblock({ operation: [...ALLOWED_LOADERS, ...(options.allowSvg === true ? ['VipsForeignLoadSvgBuffer'] : [])] });
  }
  if (options.threads !== undefined) sharp.concurrency(options.threads);
  ort.env.logLevel = 'error';
  return {
    ort,
    sharp,
    from: dir ?? 'bundle',
    versions: { onnxruntime: packageVersion(load, 'onnxruntime-node'), sharp: sharp.versions.sharp },
    loadMs: Math.round((performance.now() - startedAt) * 100) / 100,
  };
}

/**
 * The onnxruntime-node version that {@link loadNativeLibraries} would load, read from its
 * package.json without loading the addon (undefined when it cannot be found).
 */
export function peekOnnxruntimeVersion(nodeModulesDir: string | undefined): string | undefined {
  const dir = nodeModulesDir !== undefined && existsSync(nodeModulesDir) ? nodeModulesDir : undefined;
  const load = dir === undefined ? createRequire(import.meta.url) : createRequire(join(dir, '.lambda-efs-loader.cjs'));
  const version = packageVersion(load, 'onnxruntime-node');
  return version === 'unknown' ? undefined : version;
}

function requireNative<T>(load: NodeJS.Require, name: string, dir: string | undefined): T {
  try {
    return load(name) as T;
  } catch (error) {
    const where = dir === undefined ? 'from the deployment package' : 'from NODE_MODULES_DIR';
    throw new NativeLibraryError(
      `${name} could not be loaded ${where} (${firstLine(error)}). ` + (dir === undefined ? PACKAGE_HINT : NATIVE_INSTALL_HINT),
      { cause: error },
    );
  }
}

function packageVersion(load: NodeJS.Require, name: string): string {
  try {
    const file = realpathSync(load.resolve(name));
    // <pkg>/dist/index.js → walk up to the package.json that names the package.
    let current = file;
    for (let i = 0; i < 6; i++) {
      current = join(current, '..');
      const candidate = join(current, 'package.json');
      if (!existsSync(candidate)) continue;
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === name) return pkg.version ?? 'unknown';
    }
  } catch {
    // Only for logs.
  }
  return 'unknown';
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}
