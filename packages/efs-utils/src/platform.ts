import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import * as nodeFsPromises from 'node:fs/promises';
import { hostname } from 'node:os';

/**
 * Everything efs-utils asks of the outside world: file-system calls, clocks, timers and
 * randomness. The default is Node.js itself; the deterministic NFS simulation in the tests
 * (tests/sim/) installs its own, so the very same protocol code runs against simulated
 * NFS clients, caches, lost replies and frozen clocks. Not part of the public API.
 *
 * The synchronous calls are the ones the lock protocol uses; they stay synchronous so that
 * nothing of this process runs between a lease check and the commit it guards.
 */
export interface SyncFs {
  renameSync(from: string, to: string): void;
  readdirSync(path: string): string[];
  rmSync(path: string, options: { recursive: true; force: true }): void;
  rmdirSync(path: string): void;
  unlinkSync(path: string): void;
  mkdirSync(path: string): unknown;
  symlinkSync(target: string, path: string): void;
  lstatSync(path: string): {
    readonly mtimeMs: number;
    readonly mode: number;
    isFile(): boolean;
    isDirectory(): boolean;
    isSymbolicLink(): boolean;
  };
  existsSync(path: string): boolean;
  /** `APPEND_EXISTING`: like 'a' without creating the file. */
  openSync(path: string, flags: 'a' | 'wx' | typeof APPEND_EXISTING, mode: number): number;
  writeSync(fd: number, data: Uint8Array, offset: number, length: number): number;
  fchmodSync(fd: number, mode: number): void;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  readFileSync(path: string, encoding: 'utf8'): string;
  readFileSync(path: string): Uint8Array;
}

/** open(2) flags: append to a file that exists (ENOENT otherwise). */
export const APPEND_EXISTING: number = nodeFs.constants.O_WRONLY | nodeFs.constants.O_APPEND;

/** The subset of `node:fs/promises` used by atomicWriteFile, atomicMove, switchSymlink and removeTree. */
export type AsyncFs = Pick<typeof nodeFsPromises, 'open' | 'rename' | 'stat' | 'lstat' | 'unlink' | 'link' | 'realpath' | 'symlink' | 'rm'>;

export interface Platform {
  readonly fs: SyncFs;
  readonly fsp: AsyncFs;
  /** Monotonic milliseconds: immune to wall-clock jumps, never compared across processes. */
  monotonicMs(): number;
  /** This host's wall clock (only for sweeping long-abandoned staging directories). */
  wallMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** A repeating timer that does not keep the process alive. */
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Uniform in [0, 1): backoff jitter. */
  random(): number;
  /** A name component unique across hosts. */
  token(): string;
  /** Who holds a lease, for a person reading the lock directory (`host:pid`). */
  readonly owner: string;
}

const nodePlatform: Platform = {
  fs: nodeFs as unknown as SyncFs,
  fsp: nodeFsPromises,
  monotonicMs: () => performance.now(),
  wallMs: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  setInterval: (fn, ms) => setInterval(fn, ms).unref(),
  clearInterval: (handle) => clearInterval(handle as NodeJS.Timeout),
  random: Math.random,
  // 96 random bits: the pid alone is not unique on a shared file system (every Lambda
  // environment is pid 1-ish), nor is a timestamp.
  token: () => randomBytes(12).toString('hex'),
  owner: `${hostname()}:${process.pid}`,
};

/** The platform in use; read through this binding on every call (it is cheap). */
export let platform: Platform = nodePlatform;

/** Installs `next` (the simulation does this per simulated process) and returns the previous platform. */
export function usePlatform(next: Platform): Platform {
  const previous = platform;
  platform = next;
  return previous;
}
