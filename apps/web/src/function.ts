// The one declaration of the web function. Infra turns it into a Lambda function and API Gateway
// routes; the local runtime into routes and an execution environment. Import it as
// `@lambda-efs/web/function`.
import { defineFunction } from '@lambda-efs/function-spec';

/** The web page for the message wall and the image classifier, on the same HTTP API as both. */
export const functionDefinition = defineFunction({
  name: 'web',
  description: 'Web page for the message wall and the image classifier: GET / and its hashed assets, embedded in the bundle',
  // Next to the compiled declaration: dist/handler.js after the build.
  entry: new URL('./handler.js', import.meta.url),
  // Pure JavaScript, no native modules: arm64 (Graviton) costs about 20% less per GB-second.
  architecture: 'arm64',
  // Answers are strings already in memory (about 50 KB in all): the smallest size is plenty.
  memoryMb: 128,
  timeoutSeconds: 3,
  // HEAD as routes of its own: a route key names one method (or ANY, which would also take POST…).
  routes: ['GET /', 'HEAD /', 'GET /assets/{proxy+}', 'HEAD /assets/{proxy+}'],
  // No file system and no environment: everything it serves is inside the deployment package.
});
