// Release archives the deploy uploads and the provisioner installs on EFS, built at synth:
// the default model (the demo model unless configured) and, for functions that load their native
// modules from the file system, the platform's node_modules. Archives are deterministic (C2), so
// the same inputs give the same bytes, the same hash, and no re-install.
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { nativePlatform, type Architecture, type FunctionDefinition } from '@lambda-efs/function-spec';
import { packDirectory } from '@lambda-efs/efs-provisioner/archive';
import { DEMO_VERSION, writeDemoModel } from '@lambda-efs/onnx-models';

import { owningPackage } from './bundling/bundle.js';
import { platformNodeModules } from './bundling/native-modules.js';
import type { DefaultModelConfig } from './config.js';
import { InfraError } from './errors.js';

/** A release archive on disk, ready to upload; what the provisioner's `install` event names. */
export interface ReleaseArtifact {
  /** The release set under the provisioner's mount: `models/<name>` or `libraries/<platform>`. */
  readonly target: string;
  readonly version: string;
  /** Absolute path of the `.tar.gz`. */
  readonly archivePath: string;
  /** SHA-256 of the archive, hex: the provisioner verifies it, and a change re-installs. */
  readonly sha256Hex: string;
  /** MD5 of the archive, hex (the S3 object's `source_hash`). */
  readonly md5Hex: string;
  readonly bytes: number;
  /** For plans and errors. @example 'the demo model' */
  readonly description: string;
}

/** The files a model release holds at its top (what ml-inference loads). */
export const MODEL_RELEASE_FILES = Object.freeze(['model.onnx', 'labels.txt', 'model.json']);

/** Release versions the provisioner accepts (as ml-inference's model:install). */
const VERSION = /^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$/;
/** Release sets: `models/<name>` or `libraries/<platform>`. */
const TARGET = /^(models|libraries)\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/**
 * Packs `dir` (C2: deterministic gzip'd ustar) into `<outDir>/<target>-<version>.tar.gz`. The
 * version is given, or derived from the archive's SHA-256.
 * @throws {InfraError} `EINFRACONFIG` when the target or version is malformed or `dir` is missing.
 */
export async function archiveRelease(
  dir: string,
  target: string,
  versionOf: string | ((sha256Hex: string) => string),
  outDir: string,
  description: string,
): Promise<ReleaseArtifact> {
  if (!TARGET.test(target))
    throw new InfraError('EINFRACONFIG', `Release target "${target}" is invalid: use models/<name> or libraries/<platform>.`);
  if (typeof versionOf === 'string' && !VERSION.test(versionOf)) {
    throw new InfraError(
      'EINFRACONFIG',
      `Release version "${versionOf}" of ${description} is invalid: use 1 to 64 letters, digits, ".", "+", "-" or "_".`,
    );
  }
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new InfraError(
      'EINFRACONFIG',
      `The release directory ${dir} of ${description} does not exist: give a directory with the release's files.`,
    );
  }
  const { archive, sha256Hex } = await packDirectory(dir);
  const version = typeof versionOf === 'string' ? versionOf : versionOf(sha256Hex);
  await mkdir(outDir, { recursive: true });
  const archivePath = join(outDir, `${target.replace('/', '-')}-${version}.tar.gz`);
  await writeFile(archivePath, archive);
  return {
    target,
    version,
    archivePath,
    sha256Hex,
    md5Hex: createHash('md5').update(archive).digest('hex'),
    bytes: archive.length,
    description,
  };
}

/**
 * The default model's release: the demo model (generated, 8 colour labels, version
 * `DEMO_VERSION`) as `models/demo`, or a configured directory as `models/<name>`.
 */
export async function buildModelRelease(model: DefaultModelConfig, outDir: string): Promise<ReleaseArtifact> {
  if (model.source === 'directory') {
    // What the provisioner checks before it installs a model release: refused here, at synth,
    // instead of half-way through the apply.
    const missing = MODEL_RELEASE_FILES.filter((file) => !existsSync(join(model.directory, file)));
    if (missing.length > 0) {
      throw new InfraError(
        'EINFRACONFIG',
        `artifacts.defaultModel.directory ${model.directory} has no ${missing.join(', ')}: give the directory of a model release ` +
          `(${MODEL_RELEASE_FILES.join(', ')}; pnpm model:install's source with a model.json).`,
      );
    }
    return archiveRelease(model.directory, `models/${model.name}`, model.version, outDir, `model "${model.name}" ${model.version}`);
  }
  const scratch = await mkdtemp(join(tmpdir(), 'lambda-efs-demo-model-'));
  try {
    await writeDemoModel(scratch);
    return await archiveRelease(scratch, 'models/demo', DEMO_VERSION, outDir, 'the demo model');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The release set of a platform's native libraries: `libraries/linux-x64` or `libraries/linux-arm64`. */
export function librariesTarget(architecture: Architecture): string {
  return `libraries/${nativePlatform(architecture)}`;
}

/**
 * Where a function that loads its native modules from the file system finds them
 * (`NODE_MODULES_DIR`): `<mountPath>/libraries/<platform>/current/node_modules`, what the
 * provisioner's install of {@link buildLibrariesRelease}'s archive creates.
 */
export function librariesNodeModulesDir(fn: Pick<FunctionDefinition, 'architecture' | 'fileSystem'>): string | null {
  if (fn.fileSystem === null) return null;
  return `${fn.fileSystem.mountPath}/${librariesTarget(fn.architecture)}/current/node_modules`;
}

/**
 * The native libraries of the functions whose declaration says `nativeModules.from:
 * 'file-system'`, one release per platform: `node_modules/` for linux on the function's
 * architecture (glibc), built from the workspace's installed packages, as `libraries/<platform>`.
 * Its version is the archive's hash, so a dependency upgrade is a new release.
 */
export async function buildLibrariesReleases(functions: readonly FunctionDefinition[], outDir: string): Promise<ReleaseArtifact[]> {
  const byTarget = new Map<string, { architecture: Architecture; packages: Set<string>; resolveFrom: string; names: string[] }>();
  for (const fn of functions) {
    if (fn.nativeModules.from !== 'file-system' || fn.nativeModules.packages.length === 0) continue;
    const target = librariesTarget(fn.architecture);
    const entry = byTarget.get(target) ?? {
      architecture: fn.architecture,
      packages: new Set<string>(),
      resolveFrom: owningPackage(fn.entry)?.directory ?? dirname(fn.entry),
      names: [],
    };
    for (const pkg of fn.nativeModules.packages) entry.packages.add(pkg);
    entry.names.push(fn.name);
    byTarget.set(target, entry);
  }
  const releases: ReleaseArtifact[] = [];
  for (const [target, entry] of byTarget) {
    const scratch = await mkdtemp(join(tmpdir(), 'lambda-efs-libraries-'));
    try {
      platformNodeModules([...entry.packages].sort(), {
        architecture: entry.architecture,
        resolveFrom: entry.resolveFrom,
        outDir: scratch,
      });
      releases.push(
        await archiveRelease(
          scratch,
          target,
          (sha256Hex) => sha256Hex.slice(0, 16),
          outDir,
          `the native libraries of ${entry.names.join(', ')} (${target})`,
        ),
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }
  return releases;
}
