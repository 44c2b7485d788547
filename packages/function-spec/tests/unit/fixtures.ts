import type { AccessPointSpec, FunctionSpec } from '../../src/index.js';

export const messageAccessPointSpec: AccessPointSpec = {
  name: 'message',
  rootPath: '/message',
  owner: { uid: 1001, gid: 1001 },
  permissions: '750',
};

export const messageWallSpec: FunctionSpec = {
  name: 'message-wall',
  entry: '/srv/apps/message-wall/dist/handler.js',
  memoryMb: 256,
  timeoutSeconds: 10,
  routes: ['ANY /message-wall', 'ANY /message-wall/{wall}'],
  fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/msg' },
  environment: { MESSAGE_WALL_DIR: '/mnt/msg' },
  reservedConcurrency: 50,
};

/** A copy of `spec` with `changes` applied; `undefined` removes a field. For bad declarations, cast. */
export function withChanges(spec: object, changes: Record<string, unknown>): unknown {
  const copy: Record<string, unknown> = { ...structuredClone(spec), ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete copy[key];
  return copy;
}
