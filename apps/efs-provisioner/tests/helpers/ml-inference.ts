// A real ml-inference execution environment in a child process (the built handler), kept warm
// across requests, as Lambda keeps an environment between invocations.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('../integration/fixtures/ml-inference.mjs', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));

export interface Classification {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
}

export interface WarmMlInference {
  classify(image: Buffer): Promise<Classification>;
  close(): Promise<void>;
}

export function startMlInference(modelsDir: string, modelName: string): WarmMlInference {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [FIXTURE], {
    cwd: PACKAGE_DIR,
    env: {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? '/tmp',
      MODEL_DIR: modelsDir,
      MODEL_NAME: modelName,
      AWS_LAMBDA_FUNCTION_NAME: 'ml-inference',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1769',
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const waiting: Array<(line: string) => void> = [];
  const lines = createInterface({ input: child.stdout });
  lines.on('line', (line) => {
    if (line.startsWith('RESULT ')) waiting.shift()?.(line.slice('RESULT '.length));
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  return {
    classify(image) {
      if (exited) return Promise.reject(new Error(`ml-inference exited: ${stderr}`));
      return new Promise((resolve, reject) => {
        const onExit = (): void => reject(new Error(`ml-inference exited: ${stderr}`));
        child.once('exit', onExit);
        waiting.push((line) => {
          child.off('exit', onExit);
          const result = JSON.parse(line) as { statusCode: number; body: string };
          resolve({ statusCode: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> });
        });
        child.stdin.write(`${image.toString('base64')}\n`);
      });
    },
    async close() {
      if (exited) return;
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.stdin.end();
      await done;
    },
  };
}
