// The one declaration of the message-wall function and its access point. Infra turns it into
// Lambda, API Gateway and EFS resources; the local runtime into routes, an execution environment
// and ./.efs/message. Import it as `@lambda-efs/message-wall/function`.
import { defineAccessPoint, defineFunction } from '@lambda-efs/function-spec';

/**
 * The message wall's directory on the shared file system, with the post's owner and mode.
 * Layout: `content` (one message per line, the seed's format) and `walls/<id>/content`.
 */
export const accessPoint = defineAccessPoint({
  name: 'message',
  rootPath: '/message',
  owner: { uid: 1001, gid: 1001 },
  permissions: '750',
});

/** The message-wall function. */
export const functionDefinition = defineFunction({
  name: 'message-wall',
  description: 'Message wall: GET, POST and DELETE messages kept in files on the shared EFS file system',
  // Next to the compiled declaration: dist/handler.js after tsc.
  entry: new URL('./handler.js', import.meta.url),
  // Pure JavaScript, no native modules: arm64 (Graviton) costs about 20% less per GB-second.
  architecture: 'arm64',
  // CPU grows with memory; 256 MB halves lock hold times against 128 MB for little more cost.
  memoryMb: 256,
  // Room to wait for the file lock under contention, well inside API Gateway's 30 s.
  timeoutSeconds: 10,
  // ANY: the handler itself answers 405 (with Allow) for methods it does not support.
  routes: ['ANY /message-wall', 'ANY /message-wall/{wall}'],
  fileSystem: { accessPoint, mountPath: '/mnt/msg' },
  environment: { MESSAGE_WALL_DIR: '/mnt/msg' },
  // Every execution environment holds one EFS connection and contends for the same lock files:
  // 50 caps both, and caps the bill of a request flood. The local runtime applies it; on AWS infra
  // reserves only what the environment's config says (a fresh account cannot reserve any):
  // LAMBDA_EFS_RESERVED_CONCURRENCY=message-wall=50 (infra/DEPLOY.md).
  reservedConcurrency: 50,
});
