// Real processes: the built CLI commands and cold starts of the built handler.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('../..', import.meta.url));
const INVOKE = fileURLToPath(new URL('./fixtures/invoke.mjs', import.meta.url));

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `node <args>` in the package directory with `env` added, and collects its output. */
export function runNode(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      cwd: PACKAGE_DIR,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface ColdStart {
  readonly statusCode: number;
  readonly body: Record<string, unknown>;
  readonly logs: Record<string, unknown>[];
  readonly initMs: number;
  readonly totalMs: number;
  readonly stderr: string;
}

/** One cold start: a fresh process imports dist/handler.js and answers the event in `eventFile`. */
export async function coldStart(eventFile: string, env: Record<string, string>): Promise<ColdStart> {
  const result = await runNode([INVOKE, eventFile], {
    AWS_LAMBDA_FUNCTION_NAME: 'ml-inference',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008',
    MODEL_NAME: 'demo',
    ...env,
  });
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  const answer = lines.find((line) => line.startsWith('RESULT '));
  if (answer === undefined) throw new Error(`no answer (exit ${result.code}): ${result.stdout}\n${result.stderr}`);
  const parsed = JSON.parse(answer.slice('RESULT '.length)) as { statusCode: number; body: string; initMs: number; totalMs: number };
  return {
    statusCode: parsed.statusCode,
    body: JSON.parse(parsed.body) as Record<string, unknown>,
    // The function log writes INFO on stdout, WARN and ERROR on stderr (as Powertools does).
    logs: [...lines, ...result.stderr.split('\n')]
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>),
    initMs: parsed.initMs,
    totalMs: parsed.totalMs,
    stderr: result.stderr,
  };
}
