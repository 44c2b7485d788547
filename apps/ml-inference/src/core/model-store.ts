// The model on the file system (the post's TORCH_HOME), as the function sees it:
//
//   <MODEL_DIR>/<name>/current -> releases/<version>        switched atomically by model:install
//   <MODEL_DIR>/<name>/releases/<version>/
//     model.onnx  labels.txt  model.json  release.json     (release.json: sizes, written last)
//     optimized/ort-<version>-<cpu>/model.onnx(.data)       graphs optimized for a CPU class: written
//                                                           by model:install, or by the first cold start
//
// One session per execution environment, created at the first request and reused. Every request
// makes one cheap check, a readlink of `current`; when it points somewhere new, the new release is
// loaded (once, however many requests wait for it) and replaces the old one, which is released
// when the requests using it are done. Releases are immutable and published whole, so a load never
// sees half a model.
import { open, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

import { removeTree } from '@lambda-efs/efs-utils';

import { ModelInvalidError, ModelNotInstalledError, MlInferenceError, systemErrorCode } from '../errors.js';
import { parseModelConfig, type ModelConfig } from './model-config.js';
import type { NativeLibraries } from './native.js';
import { optimizedScratch, publishOptimized, type PublishOutcome } from './optimized-cache.js';
import { warmUpResampler } from './preprocess.js';
import { cpuClass, createModelSession, OPTIMIZED_FILES, optimizedModelKey, type ModelSession } from './session.js';

export const RELEASE_FILES = Object.freeze({
  model: 'model.onnx',
  labels: 'labels.txt',
  config: 'model.json',
  manifest: 'release.json',
  optimizedDir: 'optimized',
});

/** `current`'s target: `releases/<version>`. */
export const RELEASE_TARGET = /^releases\/([A-Za-z0-9][A-Za-z0-9._+-]{0,63})$/;
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;
export const MAX_LABELS = 100_000;
export const MAX_LABEL_LENGTH = 256;

/** How a load used the optimized-graph cache. */
export type OptimizedUse = 'hit' | 'miss' | 'fallback' | 'unavailable';

export interface LoadStats {
  readonly loadMs: number;
  /** Loading onnxruntime-node and sharp (0 once loaded). */
  readonly librariesMs: number;
  /** Waiting for the model file after the libraries were loaded (the read overlaps with them). */
  readonly readWaitMs: number;
  /** Creating (and checking) the onnxruntime session. */
  readonly sessionMs: number;
  /**
   * Fresh memory the load touched, in MB (minor page faults × page size, the whole process): on
   * Lambda's Firecracker VMs, touching fresh memory costs ~3 ms per MB, so every copy of the weights
   * shows here.
   */
  readonly memoryTouchedMb: { readonly libraries: number; readonly session: number; readonly load: number };
  /** Bytes read from the model directory: what EFS throughput pays for a cold start. */
  readonly bytesRead: number;
  readonly files: Readonly<Record<string, number>>;
  readonly optimized: OptimizedUse;
  /** After a miss: whether this load wrote the cache entry for the next cold starts. */
  readonly cacheWritten?: PublishOutcome | 'read-only' | 'failed';
  readonly cacheKey: string | undefined;
}

export interface LoadedModel {
  readonly name: string;
  readonly version: string;
  /** `current`'s target when it was loaded. */
  readonly target: string;
  readonly labels: readonly string[];
  readonly config: ModelConfig;
  readonly session: ModelSession;
  readonly libraries: NativeLibraries;
  readonly stats: LoadStats;
}

/** A model in use by one request; `release()` when done with it. */
export interface ModelLease {
  readonly model: LoadedModel;
  /** Set when this request loaded the model (a cold start or a switch). */
  readonly loadedNow: boolean;
  release(): void;
}

/** The release manifest model:install writes last (sizes let a damaged copy be spotted cheaply). */
export interface ReleaseManifest {
  readonly name: string;
  readonly version: string;
  readonly files: Readonly<Record<string, { readonly bytes: number; readonly sha256: string }>>;
  readonly installedAt: string;
  readonly installedBy: string;
}

export interface ModelStoreOptions {
  readonly modelDir: string;
  readonly modelName: string;
  readonly threads: number;
  /** Loads onnxruntime-node and sharp (memoized by the caller). */
  readonly libraries: () => NativeLibraries;
  /**
   * The onnxruntime-node version without loading it, so the optimized graph's read can start
   * before the libraries load. @default unknown until the libraries are loaded
   */
  readonly onnxruntimeVersion?: () => string | undefined;
  readonly log?: (level: 'INFO' | 'WARN' | 'ERROR', message: string, fields: Record<string, unknown>) => void;
  /**
   * After a release failed to load, how long to keep answering with that failure (or with the
   * previous release) before reading it again: a broken 100 MB model is not re-read per request.
   * @default 10000
   */
  readonly retryAfterMs?: number;
  /** @default cpuClass() of this machine */
  readonly cpuClass?: string;
}

interface Entry {
  readonly model: LoadedModel;
  refs: number;
  retired: boolean;
}

const INSTALL_HINT =
  'Install one with: pnpm model:install <model-dir-or-file.onnx> --name <name> --version <version> ' +
  '(on AWS, from a machine that mounts the file system; see apps/ml-inference/README.md). ' +
  'Locally, pnpm --filter @lambda-efs/ml-inference model:demo installs the demo model.';

export class ModelStore {
  readonly #options: ModelStoreOptions;
  readonly #currentLink: string;
  #active: Entry | undefined;
  readonly #loading = new Map<string, Promise<Entry>>();
  readonly #failures = new Map<string, { readonly error: Error; readonly at: number }>();
  readonly #cpu: string;

  constructor(options: ModelStoreOptions) {
    this.#options = options;
    this.#currentLink = join(options.modelDir, options.modelName, 'current');
    this.#cpu = options.cpuClass ?? cpuClass();
  }

  /** The model loaded now, if any (for logs and tests). */
  get active(): LoadedModel | undefined {
    return this.#active?.model;
  }

  /**
   * The model `current` points at, loaded if needed. Throws ModelNotInstalledError or
   * ModelInvalidError (503) when there is nothing usable; a warm environment whose new release
   * fails to load keeps answering with the release it has, and logs why.
   */
  async acquire(): Promise<ModelLease> {
    const target = await this.#readCurrent();
    const active = this.#active;
    if (target === undefined || active?.model.target === target) {
      if (active === undefined) throw new ModelNotInstalledError(this.#notInstalledMessage());
      if (target === undefined) {
        this.#log('WARN', 'model link missing; serving the loaded release', { version: active.model.version });
      }
      return this.#lease(active, false);
    }
    const failure = this.#failures.get(target);
    if (failure !== undefined && Date.now() - failure.at < (this.#options.retryAfterMs ?? 10_000)) {
      if (active !== undefined) return this.#lease(active, false);
      throw failure.error;
    }
    let loading = this.#loading.get(target);
    const mine = loading === undefined;
    if (loading === undefined) {
      loading = this.#load(target);
      this.#loading.set(target, loading);
    }
    try {
      const entry = await loading;
      if (mine) this.#activate(entry);
      return this.#lease(entry, mine);
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (mine) {
        this.#failures.set(target, { error, at: Date.now() });
        if (active !== undefined) {
          this.#log('ERROR', 'new model release failed to load; serving the previous one', {
            target,
            previous: active.model.version,
            code: error instanceof MlInferenceError ? error.code : undefined,
            reason: error.message,
          });
        }
      }
      const current = this.#active;
      if (current !== undefined) return this.#lease(current, false);
      throw error;
    } finally {
      if (mine) this.#loading.delete(target);
    }
  }

  /** Releases the loaded session (tests and shutdown). */
  async close(): Promise<void> {
    const active = this.#active;
    this.#active = undefined;
    if (active !== undefined) {
      active.retired = true;
      if (active.refs === 0) await active.model.session.dispose();
    }
  }

  #lease(entry: Entry, loadedNow: boolean): ModelLease {
    entry.refs += 1;
    let released = false;
    return {
      model: entry.model,
      loadedNow,
      release: () => {
        if (released) return;
        released = true;
        entry.refs -= 1;
        if (entry.retired && entry.refs === 0) void entry.model.session.dispose().catch(() => undefined);
      },
    };
  }

  #activate(entry: Entry): void {
    const previous = this.#active;
    if (previous === entry) return;
    this.#active = entry;
    this.#failures.delete(entry.model.target);
    if (previous !== undefined) {
      previous.retired = true;
      if (previous.refs === 0) void previous.model.session.dispose().catch(() => undefined);
      this.#log('INFO', 'model release switched', { from: previous.model.version, to: entry.model.version });
    }
  }

  async #readCurrent(): Promise<string | undefined> {
    try {
      return await readlink(this.#currentLink);
    } catch (error) {
      const code = systemErrorCode(error);
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      if (code === 'EINVAL') {
        throw new ModelInvalidError(
          `Model "${this.#options.modelName}": MODEL_DIR/${this.#options.modelName}/current is not a symlink. ${INSTALL_HINT}`,
        );
      }
      throw new ModelInvalidError(
        `Model "${this.#options.modelName}": MODEL_DIR/${this.#options.modelName}/current cannot be read (${code ?? String(error)}): check the access point's permissions.`,
        { cause: error },
      );
    }
  }

  #notInstalledMessage(): string {
    return `No model "${this.#options.modelName}" is installed: MODEL_DIR/${this.#options.modelName}/current does not exist. ${INSTALL_HINT}`;
  }

  async #load(target: string): Promise<Entry> {
    const startedAt = performance.now();
    const touchedAtStart = touchedBytes();
    const name = this.#options.modelName;
    const match = RELEASE_TARGET.exec(target);
    if (match?.[1] === undefined) {
      throw new ModelInvalidError(
        `Model "${name}": current points at "${target}", not at releases/<version>. Switch it with pnpm model:install.`,
      );
    }
    const version = match[1];
    const where = `Model "${name}" version ${version}`;
    const dir = join(this.#options.modelDir, name, target);
    const files: Record<string, number> = {};
    const fail = (file: string, error: unknown): never => {
      const code = systemErrorCode(error);
      if (code === 'ENOENT') {
        throw new ModelInvalidError(`${where}: ${file} is missing from the release. Install the model again (pnpm model:install).`, {
          cause: error,
        });
      }
      throw new ModelInvalidError(`${where}: ${file} cannot be read (${code ?? String(error)}).`, { cause: error });
    };
    const read = async (file: string, required: boolean): Promise<Buffer | undefined> => {
      try {
        const bytes = await readFile(join(dir, file));
        files[file] = bytes.length;
        return bytes;
      } catch (error) {
        if (!required && systemErrorCode(error) === 'ENOENT') return undefined;
        return fail(file, error);
      }
    };
    // The large files are handed to onnxruntime by path (it memory-maps the optimized graph's
    // weights); reading them through here first, in small chunks into one reused buffer, only fills
    // the page cache, from EFS, while the native libraries load.
    // Every `required` file must exist (else false); optional ones are counted when they do.
    const prefetch = async (required: readonly string[], optional: readonly string[] = []): Promise<boolean> => {
      const all = [...required, ...optional];
      const sizes = await Promise.all(all.map((file) => prefetchFile(join(dir, file))));
      if (sizes.slice(0, required.length).some((size) => size === undefined)) return false;
      all.forEach((file, i) => {
        if (sizes[i] !== undefined) files[file] = sizes[i];
      });
      return true;
    };
    const prefetchModel = async (): Promise<void> => {
      let found: boolean;
      try {
        found = await prefetch([RELEASE_FILES.model]);
      } catch (error) {
        return fail(RELEASE_FILES.model, error);
      }
      if (!found) fail(RELEASE_FILES.model, Object.assign(new Error('not found'), { code: 'ENOENT' }));
    };
    // The graph, and its weights (absent when it has no initializer large enough to go there).
    const optimizedPaths = (key: string | undefined): [string, string] | undefined =>
      key === undefined
        ? undefined
        : [
            `${RELEASE_FILES.optimizedDir}/${key}/${OPTIMIZED_FILES.graph}`,
            `${RELEASE_FILES.optimizedDir}/${key}/${OPTIMIZED_FILES.weights}`,
          ];

    // The reads go to the libuv thread pool first; loading the native libraries (synchronous
    // require of two addons) then overlaps with them on the main thread.
    const smallFiles = Promise.all([
      read(RELEASE_FILES.config, true),
      read(RELEASE_FILES.labels, true),
      read(RELEASE_FILES.manifest, false),
    ]);
    const peekedVersion = this.#options.onnxruntimeVersion?.();
    let cacheKey = peekedVersion === undefined ? undefined : optimizedModelKey(peekedVersion, this.#cpu);
    // The optimized graph if there is one, else model.onnx.
    const prefetchFor = async (key: string | undefined): Promise<'optimized' | 'model'> => {
      const paths = optimizedPaths(key);
      if (paths !== undefined && (await prefetch([paths[0]], [paths[1]]))) return 'optimized';
      await prefetchModel();
      return 'model';
    };
    let prefetched = prefetchFor(cacheKey);
    // Nothing may reject unobserved while the libraries load.
    smallFiles.catch(() => undefined);
    prefetched.catch(() => undefined);
    const librariesStart = performance.now();
    const touchedBeforeLibraries = touchedBytes();
    const libraries = this.#options.libraries();
    const librariesAt = performance.now();
    const librariesTouched = touchedBytes() - touchedBeforeLibraries;
    const [configBytes, labelBytes, manifestBytes] = await smallFiles;
    const config = parseModelConfig((configBytes as Buffer).toString('utf8'), where);
    const labels = parseLabels((labelBytes as Buffer).toString('utf8'), where);
    const manifest = manifestBytes === undefined ? undefined : parseManifest(manifestBytes, where);
    const actualKey = optimizedModelKey(libraries.versions.onnxruntime, this.#cpu);
    if (actualKey !== cacheKey) {
      await prefetched.catch(() => undefined);
      for (const file of [...(optimizedPaths(cacheKey) ?? []), RELEASE_FILES.model]) delete files[file];
      cacheKey = actualKey;
      prefetched = prefetchFor(cacheKey);
    }
    // libvips' first-use costs run on its own threads while the session blocks the main thread.
    const resamplerWarmedUp = warmUpResampler(libraries.sharp, config);
    const found = await prefetched;
    let sessionStart = performance.now();
    const readWaitMs = sessionStart - librariesAt;
    const touchedBeforeSession = touchedBytes();

    let optimized: OptimizedUse = cacheKey === undefined ? 'unavailable' : 'miss';
    let cacheWritten: PublishOutcome | 'read-only' | 'failed' | undefined;
    let session: ModelSession | undefined;
    const settings = { threads: this.#options.threads };
    if (found === 'optimized' && cacheKey !== undefined) {
      try {
        const graph = join(dir, RELEASE_FILES.optimizedDir, cacheKey, OPTIMIZED_FILES.graph);
        session = await createModelSession(libraries.ort, graph, config, labels.length, { ...settings, preoptimized: true }, where);
        optimized = 'hit';
      } catch (error) {
        // A damaged cache entry costs a slower start, never an outage.
        optimized = 'fallback';
        this.#log('WARN', 'optimized model unusable; loading model.onnx', {
          entry: `${RELEASE_FILES.optimizedDir}/${cacheKey}`,
          reason: error instanceof Error ? error.message : String(error),
        });
        await prefetchModel();
        sessionStart = performance.now();
      }
    }
    if (session === undefined) {
      const expected = manifest?.files[RELEASE_FILES.model]?.bytes;
      const actual = files[RELEASE_FILES.model];
      if (expected !== undefined && expected !== actual) {
        throw new ModelInvalidError(
          `${where}: model.onnx is ${actual} bytes but release.json says ${expected}: the release is damaged. Install it again.`,
        );
      }
      const modelPath = join(dir, RELEASE_FILES.model);
      // A miss: this cold start optimizes the graph anyway, so it also saves it for the next ones
      // (unless the release is read-only here). A fallback does not: the entry is there, damaged.
      const optimizedDir = join(dir, RELEASE_FILES.optimizedDir);
      const scratch = optimized === 'miss' && cacheKey !== undefined ? await optimizedScratch(optimizedDir, cacheKey) : undefined;
      if (optimized === 'miss' && cacheKey !== undefined && scratch === undefined) cacheWritten = 'read-only';
      if (scratch !== undefined && cacheKey !== undefined) {
        try {
          session = await createModelSession(
            libraries.ort,
            modelPath,
            config,
            labels.length,
            { ...settings, preoptimized: false, saveOptimizedTo: scratch },
            where,
          );
        } catch (error) {
          await removeTree(scratch).catch(() => undefined);
          if (!(error instanceof ModelInvalidError)) throw error;
          // Maybe only the save failed (a full file system): the load below without it tells.
          cacheWritten = 'failed';
          this.#log('WARN', 'could not save the optimized graph; loading without it', { reason: error.message });
        }
        if (session !== undefined) {
          try {
            cacheWritten = await publishOptimized(scratch, optimizedDir, cacheKey);
          } catch (error) {
            cacheWritten = 'failed';
            this.#log('WARN', 'could not publish the optimized graph', { reason: error instanceof Error ? error.message : String(error) });
          }
        }
      }
      session ??= await createModelSession(libraries.ort, modelPath, config, labels.length, { ...settings, preoptimized: false }, where);
    }
    const sessionEnd = performance.now();
    await resamplerWarmedUp;
    const round = (ms: number): number => Math.round(ms * 100) / 100;
    const mb = (bytes: number): number => Math.round(bytes / 1e5) / 10;
    const stats: LoadStats = {
      loadMs: round(performance.now() - startedAt),
      librariesMs: round(librariesAt - librariesStart),
      readWaitMs: round(readWaitMs),
      sessionMs: round(sessionEnd - sessionStart),
      memoryTouchedMb: {
        libraries: mb(librariesTouched),
        session: mb(touchedBytes() - touchedBeforeSession),
        load: mb(touchedBytes() - touchedAtStart),
      },
      bytesRead: Object.values(files).reduce((a, b) => a + b, 0),
      files,
      optimized,
      ...(cacheWritten === undefined ? {} : { cacheWritten }),
      cacheKey,
    };
    const model: LoadedModel = { name, version, target, labels, config, session, libraries, stats };
    this.#log('INFO', 'model loaded', { version, ...stats, threads: this.#options.threads, librariesFrom: libraries.from });
    return { model, refs: 0, retired: false };
  }

  #log(level: 'INFO' | 'WARN' | 'ERROR', message: string, fields: Record<string, unknown>): void {
    this.#options.log?.(level, message, { model: this.#options.modelName, ...fields });
  }
}

/** Fresh memory touched by this process so far: minor page faults × the page size. */
function touchedBytes(): number {
  return process.resourceUsage().minorPageFault * 4096;
}

const PREFETCH_CHUNK = 1 << 20;

/**
 * Reads a file through one reused 1 MiB buffer, to bring it into the page cache without touching
 * fresh memory; its size, or undefined when it does not exist.
 */
async function prefetchFile(path: string): Promise<number | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = systemErrorCode(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  try {
    const buffer = Buffer.allocUnsafe(PREFETCH_CHUNK);
    let total = 0;
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, PREFETCH_CHUNK, total);
      if (bytesRead === 0) return total;
      total += bytesRead;
    }
  } finally {
    await handle.close();
  }
}

/** labels.txt: one label per line, in class order; a trailing newline is fine, blank labels are not. */
export function parseLabels(text: string, where: string): string[] {
  const lines = text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .map((line) => line.replace(/\r$/, ''));
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0)
    throw new ModelInvalidError(`${where}: labels.txt has no labels. Write one label per line, in the model's class order.`);
  if (lines.length > MAX_LABELS)
    throw new ModelInvalidError(`${where}: labels.txt has ${lines.length} labels; at most ${MAX_LABELS} are supported.`);
  lines.forEach((label, index) => {
    if (label.trim() === '')
      throw new ModelInvalidError(`${where}: labels.txt line ${index + 1} is blank. Write one label per line, in the model's class order.`);
    if (label.length > MAX_LABEL_LENGTH)
      throw new ModelInvalidError(`${where}: labels.txt line ${index + 1} is longer than ${MAX_LABEL_LENGTH} characters.`);
  });
  return lines;
}

function parseManifest(bytes: Buffer, where: string): ReleaseManifest {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as ReleaseManifest;
    if (typeof value !== 'object' || value === null || typeof value.files !== 'object' || value.files === null)
      throw new Error('no "files"');
    return value;
  } catch (error) {
    throw new ModelInvalidError(
      `${where}: release.json is damaged (${error instanceof Error ? error.message : String(error)}). Install the model again.`,
      { cause: error },
    );
  }
}
