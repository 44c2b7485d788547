import { basename, dirname, resolve } from 'node:path';
import { tempStem } from '../fs-helpers.js';

/**
 * Where the lock protocol keeps its entries for one protected path.
 *
 * ```
 * <dir>/<name>.lock/                     the lock directory (proper-lockfile's name)
 *   x.<token>.<seq>                      an exclusive lease (symlink, name renewed by rename)
 *   shared/<token>.<seq>                 shared leases, open to new shared holders
 *   d.<token>.<seq>/<token>.<seq>        shared/ after writer <token> reserved the next turn:
 *                                        the draining readers' leases; its name is the
 *                                        writer's reservation, renewed like a lease
 *   f.<holder>.<fencer>.<seq>            a reaped exclusive lease while its taker-over fences it
 * <dir>/.<name>.lock.<token>             a would-be holder's staging directory (or, a symlink:
 *                                        the release of a reaped holder, blocked; see fence.ts)
 * <dir>/.<name>.lock.reaped.<token>      a lease being removed after it went stale
 * <dir>/.<name>.<token>.tmp              new content of <name> by holder <token>, renamed in to commit
 * ```
 */
export interface LockLayout {
  /** Absolute path of the protected file. */
  readonly target: string;
  readonly lockDir: string;
  readonly sharedDir: string;
  stagingDir(token: string): string;
  trashPath(token: string): string;
  /**
   * Where the holder with `token` writes the target's new content before renaming it in. A name
   * its taker-over can derive from the lease, and remove, so that a late rename fails.
   */
  commitTempPath(token: string): string;
}

export const EXCLUSIVE_PREFIX = 'x.';
export const SHARED_DIR = 'shared';
export const RESERVED_PREFIX = 'd.';
export const FENCE_PREFIX = 'f.';

export function lockLayout(path: string): LockLayout {
  const target = resolve(path);
  const parent = dirname(target);
  const name = basename(target);
  const lockDir = `${target}.lock`;
  return {
    target,
    lockDir,
    sharedDir: `${lockDir}/${SHARED_DIR}`,
    stagingDir: (token) => `${parent}/.${name}.lock.${token}`,
    trashPath: (token) => `${parent}/.${name}.lock.reaped.${token}`,
    commitTempPath: (token) => `${parent}/.${tempStem(name)}.${token}.tmp`,
  };
}

/** `<token>.<seq>`: the name of a lease entry; renewing it renames it to the next seq. */
export function leaseName(token: string, seq: number): string {
  return `${token}.${seq.toString(36)}`;
}
