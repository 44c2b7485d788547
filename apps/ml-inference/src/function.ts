// The one declaration of the ml-inference function and its access point. Infra turns it into
// Lambda, API Gateway and EFS resources; the local runtime into routes, an execution environment
// and ./.efs/ml. Import it as `@lambda-efs/ml-inference/function`.
import { defineAccessPoint, defineFunction } from '@lambda-efs/function-spec';

/**
 * The models' directory on the shared file system, with the post's owner and mode.
 * Layout: `models/<name>/releases/<version>/…`, `models/<name>/current` (switched atomically) and,
 * for native modules on the file system, `libraries/<platform>/current/node_modules/`.
 */
export const accessPoint = defineAccessPoint({
  name: 'ml',
  rootPath: '/ml',
  owner: { uid: 1001, gid: 1001 },
  permissions: '750',
});

/** The ml-inference function. */
export const functionDefinition = defineFunction({
  name: 'ml-inference',
  description: 'Image classification with an ONNX model kept on the shared EFS file system',
  // Next to the compiled declaration: dist/handler.js after tsc.
  entry: new URL('./handler.js', import.meta.url),
  // x86_64 (the default). The deployment package (or the EFS libraries directory) carries
  // onnxruntime-node's and sharp's binaries for this architecture only.
  architecture: 'x86_64',
  // The post's 3 GB: memory buys the CPU that inference needs. The timeout stays inside what the
  // HTTP API waits for (30 s; the post's 300 s ran on after the client had its 503): infra refuses more.
  memoryMb: 3008,
  timeoutSeconds: 29,
  routes: ['GET /ml-inference', 'POST /ml-inference'],
  // Read-only: models are published by a release switch, never by the function.
  fileSystem: { accessPoint, mountPath: '/mnt/inference', readOnly: true },
  // MODEL_DIR is the post's TORCH_HOME. IMAGE_FETCH_ALLOWED_PORTS: the ports the functions'
  // security group lets out (infra checks that they agree), so another port is a 400, not a timeout.
  environment: { MODEL_DIR: '/mnt/inference/models', MODEL_NAME: 'demo', IMAGE_FETCH_ALLOWED_PORTS: '80,443' },
  // onnxruntime-node and sharp ship in the deployment package (node_modules/ next to handler.mjs,
  // linux binaries of `architecture` only: about 30 MB zipped). The post's way, from: 'file-system',
  // leaves them out: infra builds the libraries archive, the provisioner installs it on EFS and
  // infra sets NODE_MODULES_DIR (the post's PYTHONPATH) to it. core/native.ts loads from
  // NODE_MODULES_DIR when that directory exists, else from the package.
  // The same packages as core/native.ts's NATIVE_PACKAGES (not imported: infra reads this module).
  nativeModules: { packages: ['onnxruntime-node', 'sharp'], from: 'package' },
  // No provisioned concurrency: it bills around the clock. To keep a model loaded, set
  // provisionedConcurrency (and reservedConcurrency at least as high).
});

/**
 * The same function as the local runtime should serve it: it may fetch images from loopback and
 * private addresses (`IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS`), on any port, so that
 * `curl "http://127.0.0.1:3000/ml-inference?url=http://127.0.0.1:8000/red.jpg"` works. Never deploy
 * this one: on AWS it would let callers reach into the VPC.
 */
export const localFunctionDefinition = defineFunction({
  ...functionDefinition,
  // Any port (test servers listen on random ones), and private networks.
  environment: { ...withoutKey(functionDefinition.environment, 'IMAGE_FETCH_ALLOWED_PORTS'), IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'true' },
});

function withoutKey(environment: Readonly<Record<string, string>>, key: string): Record<string, string> {
  return Object.fromEntries(Object.entries(environment).filter(([name]) => name !== key));
}
