// Deployment packages as Lambda runs them: each function's zip extracted into a task directory
// (Lambda's /var/task), from which its execution environments import `handler.mjs`.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import { LAMBDA_BUNDLE_FILE_NAME } from '@lambda-efs/function-spec';

import { InvalidPackageError } from '../errors.js';
import { readZip, type ZipItem } from './zip.js';

/** Lambda's limits on a deployment package once unzipped. */
export const PACKAGE_LIMITS = Object.freeze({
  /** 250 MB unzipped, layers included (Lambda quotas: 262,144,000 bytes). */
  maxTotalBytes: 262_144_000,
  /** Not a Lambda quota: a bound on entries so a crafted archive cannot make millions of files. */
  maxEntries: 200_000,
});

/** Task directories not used for this long are removed when a newer package of the function is extracted. */
const KEEP_UNUSED_MS = 24 * 60 * 60 * 1000;

/** A function's extracted package. */
export interface TaskDirectory {
  /** Absolute directory: `LAMBDA_TASK_ROOT` and the environments' `cwd`. */
  readonly dir: string;
  /** The module the environments import: `<dir>/handler.mjs`. */
  readonly entry: string;
  /** SHA-256 of the zip, hex: the directory's name. */
  readonly sha256: string;
  /** Paths of the native addons (`*.node` files) in the package: built for one platform each. */
  readonly nativeAddons: readonly string[];
}

/** Where task directories go by default: readable by every user, as /var/task is. */
function defaultTaskRoot(): string {
  return join(tmpdir(), 'lambda-efs-local-runtime', 'tasks');
}

/**
 * The task directories of the functions served from deployment packages. A package is extracted
 * once per content: the directory is named by the zip's SHA-256, so a rebuilt zip gets a fresh
 * directory while environments still running the old one keep theirs. Extraction goes to a
 * staging directory renamed into place, so a directory that exists is complete, and two runtimes
 * extracting the same zip at once both end up with one whole copy.
 */
export class TaskDirectories {
  readonly #root: string;
  readonly #current = new Map<string, { readonly key: string; readonly task: Promise<TaskDirectory> }>();

  constructor(root: string = defaultTaskRoot()) {
    this.#root = root;
  }

  /**
   * The task directory of `functionName`'s package at `zipPath`, extracted if that content was
   * not yet. Cheap when the zip has not changed since the last call (one `stat`).
   * @throws {InvalidPackageError} the zip is missing, unreadable, breaks a rule, or has no handler.mjs.
   */
  async prepare(functionName: string, zipPath: string): Promise<TaskDirectory> {
    let stats;
    try {
      stats = await stat(zipPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new InvalidPackageError(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? String(error)})`, {
        functionName,
        zipPath,
        cause: error,
      });
    }
    const key = `${stats.ino}:${stats.size}:${stats.mtimeMs}:${stats.ctimeMs}`;
    const known = this.#current.get(functionName);
    if (known !== undefined && known.key === key) {
      const task = await known.task;
      if (existsSync(task.entry)) return task;
    }
    const task = this.#extract(functionName, zipPath);
    this.#current.set(functionName, { key, task });
    // A failure is retried on the next call rather than remembered.
    task.catch(() => {
      if (this.#current.get(functionName)?.task === task) this.#current.delete(functionName);
    });
    return task;
  }

  async #extract(functionName: string, zipPath: string): Promise<TaskDirectory> {
    const fail = (problem: string, cause?: unknown): InvalidPackageError =>
      new InvalidPackageError(problem, { functionName, zipPath, ...(cause === undefined ? {} : { cause }) });
    let archive: Buffer;
    try {
      archive = await readFile(zipPath);
    } catch (error) {
      throw fail(`cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`, error);
    }
    const sha256 = createHash('sha256').update(archive).digest('hex');
    // The central directory is read (not the contents) even when the package is extracted already.
    let items: ZipItem[];
    try {
      items = readZip(archive, PACKAGE_LIMITS);
    } catch (error) {
      if (error instanceof InvalidPackageError) throw fail(error.problem, error);
      throw error;
    }
    const handler = items.find((item) => item.path === LAMBDA_BUNDLE_FILE_NAME);
    if (handler === undefined || handler.type !== 'file') {
      throw fail(
        `has no ${LAMBDA_BUNDLE_FILE_NAME} file at its root (${items.length} entries): Lambda's handler "${LAMBDA_BUNDLE_FILE_NAME.replace(/\.mjs$/, '')}.<export>" would not be found`,
      );
    }
    const functionDir = join(this.#root, functionName);
    const dir = join(functionDir, sha256);
    const nativeAddons = items.filter((item) => item.type === 'file' && item.path.endsWith('.node')).map((item) => item.path);
    const task: TaskDirectory = { dir, entry: join(dir, LAMBDA_BUNDLE_FILE_NAME), sha256, nativeAddons };
    try {
      await this.#makeRoot(functionDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      throw fail(`cannot be extracted: ${functionDir} cannot be created (${code}); point TMPDIR at a directory this user may write`, error);
    }
    if (existsSync(dir)) {
      await touch(dir);
      return task;
    }

    await removeDebris(functionDir);
    const staging = join(functionDir, `.staging-${sha256.slice(0, 16)}-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      await extractInto(staging, items);
      await rename(staging, dir);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      const code = (error as NodeJS.ErrnoException).code;
      // Another runtime extracted the same package first: its copy is complete.
      if ((code === 'ENOTEMPTY' || code === 'EEXIST') && existsSync(dir)) return task;
      if (error instanceof InvalidPackageError) throw fail(error.problem, error);
      throw fail(`could not be extracted into ${staging} (${code ?? (error as Error).message})`, error);
    }
    await removeUnused(functionDir, sha256);
    return task;
  }

  // Every directory on the way is 0755 (the umask may say otherwise): environments that run as
  // an access point's user must reach the code, as Lambda's sandbox user reaches /var/task.
  async #makeRoot(functionDir: string): Promise<void> {
    await mkdir(functionDir, { recursive: true, mode: 0o755 });
    for (const directory of [dirname(this.#root), this.#root, functionDir]) {
      try {
        await chmod(directory, 0o755);
      } catch {
        // Owned by another user: it is theirs to open up; reachability is checked later.
      }
    }
  }
}

/** Writes the checked entries under `root` (a new directory), keeping their modes. */
async function extractInto(root: string, items: readonly ZipItem[]): Promise<void> {
  await mkdir(root, { mode: 0o755 });
  await chmod(root, 0o755);
  const made = new Set<string>(['']);
  const makeParents = async (path: string): Promise<void> => {
    const segments = path.split('/');
    for (let depth = 1; depth < segments.length; depth++) {
      const relative = segments.slice(0, depth).join('/');
      if (made.has(relative)) continue;
      const directory = join(root, relative);
      await mkdir(directory, { mode: 0o755 });
      await chmod(directory, 0o755);
      made.add(relative);
    }
  };
  const directories: ZipItem[] = [];
  for (const item of items) {
    await makeParents(item.path);
    const target = join(root, item.path);
    switch (item.type) {
      case 'directory':
        if (!made.has(item.path)) {
          await mkdir(target, { mode: 0o755 });
          made.add(item.path);
        }
        directories.push(item);
        break;
      case 'file':
        // `wx`: never follow or overwrite anything already there.
        await writeFile(target, item.data(), { flag: 'wx', mode: item.mode });
        await chmod(target, item.mode);
        break;
      case 'symlink':
        await symlink(item.data().toString('utf8'), target);
        break;
    }
  }
  // Declared directory modes last, deepest first: a read-only directory must not block its contents.
  directories.sort((a, b) => b.path.length - a.path.length);
  for (const item of directories) await chmod(join(root, item.path), item.mode);
}

async function touch(path: string): Promise<void> {
  const now = new Date();
  try {
    await utimes(path, now, now);
  } catch {
    // Another user's directory: its age only matters for removing it, which they can do.
  }
}

/** Staging directories left by runtimes that died mid-extraction. */
async function removeDebris(functionDir: string): Promise<void> {
  for (const name of await readdir(functionDir)) {
    const pid = /^\.staging-[0-9a-f]{16}-(\d+)-/.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    await rm(join(functionDir, name), { recursive: true, force: true });
  }
}

/** Other packages of the function not used for a day (a rebuilt zip leaves its old directory behind). */
async function removeUnused(functionDir: string, keep: string): Promise<void> {
  const now = Date.now();
  for (const name of await readdir(functionDir)) {
    if (name === keep || !/^[0-9a-f]{64}$/.test(name)) continue;
    try {
      const stats = await stat(join(functionDir, name));
      if (now - stats.mtimeMs > KEEP_UNUSED_MS) await rm(join(functionDir, name), { recursive: true, force: true });
    } catch {
      // Gone already, or not ours to remove.
    }
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
