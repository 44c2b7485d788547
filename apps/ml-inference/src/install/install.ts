// model:install's core: publish a model as an immutable release and switch `current` to it, so
// that execution environments starting at any moment see the old release or the new one, whole,
// never part of one:
//
//   1. copy into a staging directory next to the releases (same file system), fsync each file;
//   2. check it the way the function will: onnxruntime loads it, model.json and labels.txt agree
//      with its input and output (a model the function would refuse is never published);
//   3. write the optimized graph for this machine's CPU class (optimized/<key>/: graph and weights);
//   4. write release.json (sizes and SHA-256 of every file) last;
//   5. under the model's lock: atomicMove the staging directory to releases/<version> (one
//      rename), then switchSymlink `current` to it (another).
//
// A crash at any step leaves the published state as it was; the staging directory is removed on
// failure, and a leftover one (a killed installer) is never read by the function.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, open, readdir, readFile, readlink, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';

import { atomicMove, atomicWriteFile, removeTree, switchSymlink, withLock } from '@lambda-efs/efs-utils';

import { parseModelConfig, serializeModelConfig, DEFAULT_MODEL_CONFIG, type ModelConfig } from '../core/model-config.js';
import { parseLabels, RELEASE_FILES, VERSION_PATTERN, type ReleaseManifest } from '../core/model-store.js';
import type { Ort } from '../core/native.js';
import { optimizedScratch, publishOptimized } from '../core/optimized-cache.js';
import { cpuClass, createModelSession, OPTIMIZED_FILES, optimizedModelKey, type ModelSession } from '../core/session.js';
import { ModelInvalidError, systemErrorCode } from '../errors.js';
import type { Progress } from './progress.js';

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** Problems with the installer's arguments or sources (not with the published state). */
export class InstallError extends Error {
  readonly code = 'EINSTALL';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InstallError';
  }
}

export interface InstallOptions {
  /** A directory with model.onnx (+ labels.txt, optional model.json), or an .onnx file. */
  readonly source: string;
  /** The models directory (MODEL_DIR as the installing machine sees it). */
  readonly modelsDir: string;
  readonly name: string;
  readonly version: string;
  /** labels.txt to use. @default `labels.txt` in the source directory (or beside the .onnx file) */
  readonly labelsFile?: string;
  /** model.json to use. @default `model.json` beside the model, else the post's preprocessing */
  readonly configFile?: string;
  /** Switch `current` to the new release. @default true */
  readonly activate?: boolean;
  /** Write optimized/<key>/ for this machine's CPU class. @default true */
  readonly optimize?: boolean;
  /** onnxruntime-node, to check and optimize the model. */
  readonly ort: Ort;
  readonly ortVersion: string;
  /** @default 2 */
  readonly threads?: number;
  /** Called per file while copying: the CLI draws a progress bar. */
  readonly progress?: (file: string) => Progress;
  /** @default cpuClass() */
  readonly cpuClass?: string;
}

export interface InstallResult {
  readonly releaseDir: string;
  readonly version: string;
  readonly activated: boolean;
  /** `current`'s target before the switch, if there was one. */
  readonly previous: string | undefined;
  readonly files: ReleaseManifest['files'];
  readonly optimized: string | undefined;
}

interface Sources {
  readonly model: string;
  readonly labels: string;
  readonly config: string | undefined;
}

/**
 * Installs a model release and (by default) makes it current.
 * @throws {InstallError} bad arguments, missing sources, an existing version.
 * @throws {ModelInvalidError} the model, labels or model.json would be refused by the function.
 * @example
 * await installModel({ source: './birds', modelsDir: '/mnt/efs/ml/models', name: 'birds', version: '2', ort, ortVersion });
 */
export async function installModel(options: InstallOptions): Promise<InstallResult> {
  const { name, version, modelsDir } = options;
  if (!MODEL_NAME_PATTERN.test(name))
    throw new InstallError(`--name "${name}" is invalid: use 1 to 64 letters, digits, ".", "-" or "_", starting with a letter or digit.`);
  if (!VERSION_PATTERN.test(version))
    throw new InstallError(
      `--version "${version}" is invalid: use 1 to 64 letters, digits, ".", "+", "-" or "_", starting with a letter or digit.`,
    );
  const sources = await locateSources(options);
  const where = `Model "${name}" version ${version}`;
  const labels = parseLabels(await readText(sources.labels, 'labels'), where);
  const config =
    sources.config === undefined ? DEFAULT_MODEL_CONFIG : parseModelConfig(await readText(sources.config, 'model.json'), where);

  const modelDir = join(modelsDir, name);
  const releasesDir = join(modelDir, 'releases');
  const releaseDir = join(releasesDir, version);
  if (await exists(releaseDir)) {
    throw new InstallError(`${where} is already installed (${releaseDir}). Releases are immutable: install under a new --version.`);
  }
  await mkdirExact(modelsDir);
  await mkdirExact(modelDir);
  await mkdirExact(releasesDir);
  const staging = join(modelDir, `.staging-${version}-${randomBytes(6).toString('hex')}`);
  await mkdirExact(staging);
  try {
    const files: Record<string, { bytes: number; sha256: string }> = {};
    files[RELEASE_FILES.model] = await copyFile(sources.model, join(staging, RELEASE_FILES.model), options.progress?.(RELEASE_FILES.model));
    files[RELEASE_FILES.labels] = await writeSmall(join(staging, RELEASE_FILES.labels), `${labels.join('\n')}\n`);
    files[RELEASE_FILES.config] = await writeSmall(join(staging, RELEASE_FILES.config), serializeModelConfig(config));

    const optimized = await checkAndOptimize(options, staging, config, labels.length, where);
    if (optimized !== undefined) {
      for (const file of await readdir(join(staging, optimized)))
        files[`${optimized}/${file}`] = await digestOf(join(staging, optimized, file));
    }

    const manifest: ReleaseManifest = {
      name,
      version,
      files,
      installedAt: new Date().toISOString(),
      installedBy: `@lambda-efs/ml-inference model:install (onnxruntime-node ${options.ortVersion})`,
    };
    await writeSmall(join(staging, RELEASE_FILES.manifest), `${JSON.stringify(manifest, null, 2)}\n`);

    let previous: string | undefined;
    const activate = options.activate ?? true;
    const current = join(modelDir, 'current');
    await withLock(current, async (lock) => {
      await atomicMove(staging, releaseDir, { lock });
      if (activate) {
        previous = await readlinkIfExists(current);
        await lock.assertHeld();
        await switchSymlink(current, `releases/${version}`, { lock });
      }
    });
    return { releaseDir, version, activated: activate, previous, files, optimized };
  } catch (error) {
    await removeTree(staging).catch(() => undefined);
    throw error;
  }
}

/**
 * Adds (or replaces) `optimized/<key>/` for this machine's CPU class in an installed release. The
 * function writes a missing entry itself at its first cold start when it can write the release;
 * run this on a machine like the function's when it cannot (it logs `cacheWritten: "read-only"`).
 */
export async function optimizeRelease(
  options: Pick<InstallOptions, 'modelsDir' | 'name' | 'version' | 'ort' | 'ortVersion' | 'threads' | 'cpuClass'>,
): Promise<string> {
  const releaseDir = join(options.modelsDir, options.name, 'releases', options.version);
  const where = `Model "${options.name}" version ${options.version}`;
  if (!(await exists(join(releaseDir, RELEASE_FILES.model))))
    throw new InstallError(`${where} is not installed (no ${join(releaseDir, RELEASE_FILES.model)}).`);
  const config = parseModelConfig(await readText(join(releaseDir, RELEASE_FILES.config), 'model.json'), where);
  const labels = parseLabels(await readText(join(releaseDir, RELEASE_FILES.labels), 'labels'), where);
  const key = optimizedModelKey(options.ortVersion, options.cpuClass ?? cpuClass());
  if (key === undefined) throw new InstallError("This machine's CPU class is unknown: no optimized graph can be written for it.");
  return optimizeInto(options, releaseDir, releaseDir, config, labels.length, where, key, true);
}

/** Checks the model the way the function loads it and, unless disabled, writes `optimized/<key>/`. */
async function checkAndOptimize(
  options: InstallOptions,
  staging: string,
  config: ModelConfig,
  labelCount: number,
  where: string,
): Promise<string | undefined> {
  const key = options.optimize === false ? undefined : optimizedModelKey(options.ortVersion, options.cpuClass ?? cpuClass());
  if (key === undefined) {
    const session = await sessionFrom(options, join(staging, RELEASE_FILES.model), config, labelCount, where, undefined);
    await session.dispose();
    return undefined;
  }
  return optimizeInto(options, staging, staging, config, labelCount, where, key, false);
}

/**
 * Loads `<releaseDir>/model.onnx` (which checks it), saving the optimized graph; loads that graph
 * as the function would and checks that it answers as the original does on a random image; then
 * publishes it as `<outDir>/optimized/<key>/`. Returns that path, relative to `outDir`.
 */
async function optimizeInto(
  options: Pick<InstallOptions, 'ort' | 'threads'>,
  releaseDir: string,
  outDir: string,
  config: ModelConfig,
  labelCount: number,
  where: string,
  key: string,
  replace: boolean,
): Promise<string> {
  const optimizedDir = join(outDir, RELEASE_FILES.optimizedDir);
  await mkdirExact(optimizedDir);
  const scratch = await optimizedScratch(optimizedDir, key);
  if (scratch === undefined)
    throw new InstallError(`${optimizedDir} cannot be written: check the file system's permissions, or install with --no-optimize.`);
  try {
    const original = await sessionFrom(options, join(releaseDir, RELEASE_FILES.model), config, labelCount, where, scratch);
    try {
      const optimized = await sessionFrom(options, join(scratch, OPTIMIZED_FILES.graph), config, labelCount, where, undefined, true);
      try {
        const { width, height } = config.crop;
        const input = new Float32Array(3 * width * height);
        for (let i = 0; i < input.length; i++) input[i] = Math.sin(i * 12.9898) * 2;
        const dims = config.layout === 'NCHW' ? [1, 3, height, width] : [1, height, width, 3];
        const [a, b] = [await original.run(input, dims), await optimized.run(input, dims)];
        let worst = 0;
        for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs((a[i] ?? 0) - (b[i] ?? 0)) / Math.max(1, Math.abs(a[i] ?? 0)));
        if (!(worst < 1e-3)) {
          throw new ModelInvalidError(
            `${where}: the optimized graph answers differently from model.onnx (relative difference ${worst}); install with --no-optimize.`,
          );
        }
      } finally {
        await optimized.dispose();
      }
    } finally {
      await original.dispose();
    }
  } catch (error) {
    await removeTree(scratch).catch(() => undefined);
    throw error;
  }
  await publishOptimized(scratch, optimizedDir, key, replace);
  return `${RELEASE_FILES.optimizedDir}/${key}`;
}

async function sessionFrom(
  options: Pick<InstallOptions, 'ort' | 'threads'>,
  path: string,
  config: ModelConfig,
  labelCount: number,
  where: string,
  saveOptimizedTo: string | undefined,
  preoptimized = false,
): Promise<ModelSession> {
  return createModelSession(
    options.ort,
    path,
    config,
    labelCount,
    { threads: options.threads ?? 2, preoptimized, ...(saveOptimizedTo === undefined ? {} : { saveOptimizedTo }) },
    where,
  );
}

async function locateSources(options: InstallOptions): Promise<Sources> {
  let info;
  try {
    info = await stat(options.source);
  } catch (error) {
    throw new InstallError(
      `The model source ${options.source} does not exist (${systemErrorCode(error) ?? String(error)}). Pass a directory with model.onnx and labels.txt, or an .onnx file.`,
      { cause: error },
    );
  }
  let model: string;
  let besides: string;
  if (info.isDirectory()) {
    model = join(options.source, RELEASE_FILES.model);
    besides = options.source;
    if (!(await exists(model)))
      throw new InstallError(`${options.source} has no model.onnx. Pass a directory with model.onnx and labels.txt, or an .onnx file.`);
  } else {
    if (extname(options.source).toLowerCase() !== '.onnx')
      throw new InstallError(`${options.source} is not an .onnx file. Pass a directory with model.onnx and labels.txt, or an .onnx file.`);
    model = options.source;
    besides = dirname(options.source);
  }
  const labels = options.labelsFile ?? join(besides, RELEASE_FILES.labels);
  if (!(await exists(labels))) {
    throw new InstallError(
      `No labels for ${basename(model)}: ${labels} does not exist. Pass --labels <file> (one label per line, in class order).`,
    );
  }
  const configCandidate = options.configFile ?? join(besides, RELEASE_FILES.config);
  if (options.configFile !== undefined && !(await exists(configCandidate)))
    throw new InstallError(`--config ${configCandidate} does not exist.`);
  return { model, labels, config: (await exists(configCandidate)) ? configCandidate : undefined };
}

/** Streams `from` to `to` (exclusive create, fsync, mode 0644), hashing as it goes. */
async function copyFile(from: string, to: string, progress: Progress | undefined): Promise<{ bytes: number; sha256: string }> {
  const total = (await stat(from)).size;
  const hash = createHash('sha256');
  const out = await open(to, 'wx', FILE_MODE);
  let done = 0;
  try {
    progress?.(0, total);
    for await (const chunk of createReadStream(from, { highWaterMark: 4 * 1024 * 1024 })) {
      const buffer = chunk as Buffer;
      hash.update(buffer);
      let offset = 0;
      while (offset < buffer.length) {
        const { bytesWritten } = await out.write(buffer, offset, buffer.length - offset);
        offset += bytesWritten;
      }
      done += buffer.length;
      progress?.(Math.min(done, total), total);
    }
    await out.chmod(FILE_MODE);
    await out.sync();
  } finally {
    await out.close();
  }
  if (done !== total)
    throw new InstallError(`${from} changed size while it was copied (${total} → ${done} bytes). Copy it again when nothing writes to it.`);
  progress?.(total, total);
  return { bytes: done, sha256: hash.digest('hex') };
}

async function writeSmall(path: string, text: string): Promise<{ bytes: number; sha256: string }> {
  const bytes = Buffer.from(text, 'utf8');
  await atomicWriteFile(path, bytes, { mode: FILE_MODE });
  return { bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
}

async function digestOf(path: string): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** mkdir with an exact mode (the umask of the installing shell must not make files unreadable). */
async function mkdirExact(path: string): Promise<void> {
  try {
    await mkdir(path, { mode: DIR_MODE });
    await chmod(path, DIR_MODE);
  } catch (error) {
    if (systemErrorCode(error) === 'EEXIST') return;
    if (systemErrorCode(error) === 'ENOENT') {
      await mkdir(path, { recursive: true, mode: DIR_MODE });
      await chmod(path, DIR_MODE);
      return;
    }
    throw error;
  }
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InstallError(`The ${what} file ${path} cannot be read (${systemErrorCode(error) ?? String(error)}).`, { cause: error });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readlinkIfExists(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (error) {
    if (systemErrorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
}
