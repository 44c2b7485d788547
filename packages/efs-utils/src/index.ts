export { lock, withLock, DEFAULT_STALE_MS, type LockOptions } from './lock.js';
export { appendLine, readLines, type AppendLineOptions, type ReadLinesOptions } from './lines.js';
export { atomicWriteFile, type AtomicWriteOptions } from './atomic-write.js';
export { atomicMove, type AtomicMoveOptions } from './atomic-move.js';
export { switchSymlink, type SwitchSymlinkOptions } from './switch-symlink.js';
export { removeTree } from './remove-tree.js';
export type { Lock, LockMode } from './types.js';
export {
  EfsUtilsError,
  InvalidArgumentError,
  LockTimeoutError,
  LockCompromisedError,
  CrossDeviceError,
  DestinationExistsError,
  type EfsUtilsErrorCode,
  type CompromisedOutcome,
} from './errors.js';
