import { basename, dirname, resolve } from 'node:path';

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
 * <dir>/.<name>.lock.<token>             a would-be holder's staging directory (fresh each time)
 * <dir>/.<name>.lock.reaped.<token>      a lease being removed after it went stale
 * ```
 */
export interface LockLayout {
  /** Absolute path of the protected file. */
  readonly target: string;
  readonly lockDir: string;
  readonly sharedDir: string;
  stagingDir(token: string): string;
  trashPath(token: string): string;
}

export const EXCLUSIVE_PREFIX = 'x.';
export const SHARED_DIR = 'shared';
export const RESERVED_PREFIX = 'd.';

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
  };
}

/** `<token>.<seq>`: the name of a lease entry; renewing it renames it to the next seq. */
export function leaseName(token: string, seq: number): string {
  return `${token}.${seq.toString(36)}`;
}
