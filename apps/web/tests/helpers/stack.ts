// The system the page talks to, as `pnpm start` serves it: the web, message-wall and ml-inference
// functions on the local runtime (real child processes), over a temporary EFS root with the demo
// model installed by ml-inference's own model:demo CLI; plus an image server on 127.0.0.1 for the
// classifier's URL input.
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { startLocalApi, type LocalApi } from '@lambda-efs/local-runtime';
import { accessPoint as messageAccessPoint, functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
import { accessPoint as mlAccessPoint, localFunctionDefinition as mlInference } from '@lambda-efs/ml-inference/function';

import type * as WebFunction from '../../src/function.js';

const run = promisify(execFile);

export interface ImageServer {
  readonly origin: string;
  /** Serves `body` at `path` with `contentType`. */
  file(path: string, body: Buffer, contentType: string): void;
}

export interface Stack {
  readonly api: LocalApi;
  readonly url: string;
  readonly images: ImageServer;
  /** Every line the runtime and the functions logged (printed when a test fails). */
  readonly logs: string[];
  close(): Promise<void>;
}

/** The built declaration: its entry is dist/handler.js, the module the runtime runs (and infra bundles). */
async function webFunction(): Promise<typeof WebFunction.functionDefinition> {
  const module = (await import(new URL('../../dist/function.js', import.meta.url).href)) as typeof WebFunction;
  return module.functionDefinition;
}

/**
 * Starts the stack; `close()` ends every process and removes the temporary directory.
 * @param options.model install the demo model (default true); without it, ml-inference answers 503
 */
export async function startStack(options: { readonly model?: boolean } = {}): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'web-browser-'));
  // As root, the functions run as the access points' user (1001): it must be able to enter the root.
  await chmod(dir, 0o755);
  const efsRoot = join(dir, '.efs');
  const modelDemo = fileURLToPath(new URL('cli/model-demo.js', import.meta.resolve('@lambda-efs/ml-inference/function')));
  if (options.model !== false) await run(process.execPath, [modelDemo, '--efs-root', efsRoot], { timeout: 120_000 });
  const images = await startImageServer();
  const logs: string[] = [];
  let api: LocalApi;
  try {
    api = await startLocalApi({
      functions: [await webFunction(), messageWall, mlInference],
      accessPoints: [messageAccessPoint, mlAccessPoint],
      efsRoot,
      port: 0,
      watch: false,
      logSink: (line) => logs.push(line),
    });
  } catch (error) {
    await images.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    api,
    url: api.url,
    images,
    logs,
    async close() {
      await api.close();
      await images.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function startImageServer(): Promise<ImageServer & { close(): Promise<void> }> {
  const files = new Map<string, { body: Buffer; contentType: string }>();
  const server: Server = createServer((request, response) => {
    const file = files.get(request.url ?? '');
    if (file === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': file.contentType, 'content-length': file.body.length }).end(file.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    file: (path, body, contentType) => files.set(path, { body, contentType }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
