import { join, resolve } from 'node:path';

import type { AccessPointDefinition, FunctionDefinition } from './types.js';

/**
 * Where the local runtime keeps the file system, relative to the repository root:
 * access point `rootPath` `/message` lives in `./.efs/message`.
 */
export const LOCAL_EFS_DIR = '.efs';

/**
 * The local directory standing in for an access point's root: `<efsRoot><rootPath>`, absolute.
 * @param efsRoot the directory standing in for the whole file system, e.g. `<repo>/.efs`.
 * @example
 * localAccessPointDir('/repo/.efs', accessPoint); // '/repo/.efs/message'
 */
export function localAccessPointDir(efsRoot: string, accessPoint: Pick<AccessPointDefinition, 'rootPath'>): string {
  // rootPath is validated: absolute, normalized, no "..", so it cannot leave efsRoot.
  return join(resolve(efsRoot), accessPoint.rootPath);
}

/**
 * The function's environment for a run where its file system is at `mountDir` instead of
 * `fileSystem.mountPath` (locally, the access point's directory): every value that is the mount
 * path, or a path under it, is rebased onto `mountDir`; other values are kept. A function
 * without a file system gets its environment unchanged.
 * @example
 * // environment { MESSAGE_WALL_DIR: '/mnt/msg', MODE: 'x' }, mountPath '/mnt/msg'
 * localEnvironment(functionDefinition, '/repo/.efs/message');
 * // { MESSAGE_WALL_DIR: '/repo/.efs/message', MODE: 'x' }
 */
export function localEnvironment(
  definition: Pick<FunctionDefinition, 'environment' | 'fileSystem'>,
  mountDir: string,
): Record<string, string> {
  const mountPath = definition.fileSystem?.mountPath;
  const base = resolve(mountDir);
  return Object.fromEntries(
    Object.entries(definition.environment).map(([key, value]): [string, string] => {
      if (mountPath === undefined) return [key, value];
      if (value === mountPath) return [key, base];
      if (value.startsWith(`${mountPath}/`)) return [key, join(base, value.slice(mountPath.length + 1))];
      return [key, value];
    }),
  );
}
