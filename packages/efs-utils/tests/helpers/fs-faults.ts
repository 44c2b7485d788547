/**
 * Fault injection for `node:fs/promises`, in the spirit of npm/write-file-atomic's test/basic.js:
 * every function of the module, and the methods of every FileHandle it opens, go through one
 * interceptor that can record the call, fail it, or change what it does.
 *
 * Use from a test file:
 *
 *   vi.mock('node:fs/promises', async (importOriginal) => {
 *     const { wrapFsPromises } = await import('../helpers/fs-faults.js');
 *     return wrapFsPromises(await importOriginal());
 *   });
 *   import { fsFaults } from '../helpers/fs-faults.js';
 *
 * This module must not import node:fs/promises itself (it would get its own mock).
 */
import { basename } from 'node:path';
import type { Lock } from '../../src/types.js';

/** One intercepted call: `op` is the function name, or `handle.<method>` for FileHandle methods. */
export interface FsCall {
  readonly index: number;
  readonly op: string;
  readonly args: readonly unknown[];
  /** The path argument's basename (for open, the opened path; for handle methods, the handle's path). */
  readonly name: string;
}

/** Runs the real operation: with no arguments, the original ones; otherwise the replacements. */
export type RealCall = (...args: unknown[]) => Promise<unknown>;
export type Interceptor = (call: FsCall, real: RealCall) => Promise<unknown>;

interface State {
  interceptor: Interceptor | undefined;
  calls: FsCall[];
  notes: string[];
  openHandles: Set<object>;
}

const state: State = { interceptor: undefined, calls: [], notes: [], openHandles: new Set() };

const HANDLE_METHODS = new Set([
  'write',
  'writev',
  'writeFile',
  'read',
  'readFile',
  'sync',
  'datasync',
  'close',
  'chmod',
  'chown',
  'stat',
  'truncate',
  'utimes',
]);

/** Creates an fs error like the ones Node throws, marked as injected. */
export function fsError(code: string, call?: Pick<FsCall, 'op' | 'name'>): NodeJS.ErrnoException {
  const where = call === undefined ? '' : ` ${call.op} '${call.name}'`;
  return Object.assign(new Error(`${code}: injected failure,${where}`), { code, injected: true });
}

export const fsFaults = {
  /** Calls recorded since the last arm: `op` labels, in order, with notes interleaved. */
  get calls(): readonly FsCall[] {
    return state.calls;
  },
  /** Labels of recorded calls and notes, in order (`open:.x.tmp`, `lock.assertHeld`, …). */
  get trace(): readonly string[] {
    return state.notes;
  },
  /** FileHandles opened through the mock and not closed yet. */
  get openHandleCount(): number {
    return state.openHandles.size;
  },
  /** Passes every call through unchanged and records nothing. */
  reset(): void {
    state.interceptor = undefined;
    state.calls = [];
    state.notes = [];
  },
  /** Routes every following call through `interceptor`, recording it. */
  intercept(interceptor: Interceptor): void {
    state.calls = [];
    state.notes = [];
    state.interceptor = interceptor;
  },
  /** Records calls and runs them for real. */
  record(): void {
    fsFaults.intercept((_call, real) => real());
  },
  /**
   * Fails call number `index` (0-based, counting every fs call and FileHandle method) with `code`.
   * A failing close still closes the descriptor, as close(2) does when it reports an error.
   */
  failNth(index: number, code = 'EIO'): void {
    fsFaults.intercept(async (call, real) => {
      if (call.index !== index) return real();
      if (call.op === 'handle.close') await real();
      throw fsError(code, call);
    });
  },
  /** Adds a label to the trace, to check ordering against fs calls (e.g. `lock.assertHeld`). */
  note(label: string): void {
    if (state.interceptor !== undefined) state.notes.push(label);
  },
};

function nameOf(value: unknown): string {
  if (typeof value === 'string') return basename(value);
  if (value instanceof URL) return basename(value.pathname);
  return '';
}

function route(op: string, args: unknown[], name: string, run: RealCall): Promise<unknown> {
  const interceptor = state.interceptor;
  if (interceptor === undefined) return run(...args);
  const call: FsCall = { index: state.calls.length, op, args, name };
  state.calls.push(call);
  state.notes.push(`${op}:${name}`);
  return interceptor(call, (...override) => run(...(override.length > 0 ? override : args)));
}

function wrapHandle(handle: object, name: string): object {
  state.openHandles.add(handle);
  return new Proxy(handle, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const method = value as (...args: unknown[]) => unknown;
      if (typeof prop !== 'string' || !HANDLE_METHODS.has(prop)) return method.bind(target);
      return (...args: unknown[]) =>
        route(`handle.${prop}`, args, name, async (...real) => {
          const result = await method.apply(target, real);
          if (prop === 'close') state.openHandles.delete(target);
          return result;
        });
    },
  });
}

/** Returns a copy of the real `node:fs/promises` whose functions go through the interceptor. */
export function wrapFsPromises(real: unknown): Record<string, unknown> {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(real as Record<string, unknown>)) {
    if (typeof value !== 'function' || key === 'watch' || key === 'default') {
      wrapped[key] = value;
      continue;
    }
    const fn = value as (...args: unknown[]) => Promise<unknown>;
    wrapped[key] = (...args: unknown[]) => {
      const name = nameOf(args[0]);
      const run: RealCall = key === 'open' ? async (...real) => wrapHandle((await fn(...real)) as object, name) : (...real) => fn(...real);
      return route(key, args, name, run);
    };
  }
  wrapped.default = { ...wrapped };
  return wrapped;
}

/** A Lock stand-in whose assertHeld() is recorded among the fs calls, so tests can check its order. */
export function fakeLock(path: string, assertHeld: () => Promise<void> = async () => {}): Lock {
  return {
    path,
    mode: 'exclusive',
    held: true,
    release: async () => {},
    assertHeld: async () => {
      fsFaults.note('lock.assertHeld');
      await assertHeld();
    },
  };
}
