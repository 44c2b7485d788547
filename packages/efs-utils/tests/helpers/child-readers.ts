/**
 * Starts reader processes (plain node:fs scripts, no build needed) that hammer a path while the
 * test process changes it, then stops them and collects their JSON reports.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export interface ReaderReport {
  reads: number;
  bad: number;
  samples: string[];
  errors: Record<string, number>;
  [key: string]: unknown;
}

interface Reader {
  readonly ready: Promise<void>;
  readonly report: Promise<ReaderReport>;
}

/** Hard bound on a reader's life, whatever happens to the test process. */
const MAX_READER_MS = 20_000;

function startReader(script: string, stopFile: string, args: readonly string[]): Reader {
  const child = spawn(process.execPath, [script, args[0] ?? '', stopFile, String(MAX_READER_MS), ...args.slice(1)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    if (out.startsWith('ready\n')) markReady();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const report = new Promise<ReaderReport>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      markReady();
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`reader exited with ${code}: ${err}${out}`));
      else resolve(JSON.parse(last) as ReaderReport);
    });
  });
  return { ready, report };
}

/**
 * Runs `count` readers of `script` while `work` runs, and returns their reports once `work` is
 * done. Readers start reading before `work` starts, and stop when `stopFile` appears.
 */
export async function withReaders(
  script: string,
  args: readonly string[],
  stopFile: string,
  count: number,
  work: () => Promise<void>,
): Promise<ReaderReport[]> {
  const readers = Array.from({ length: count }, () => startReader(script, stopFile, args));
  try {
    await Promise.all(readers.map((r) => r.ready));
    await work();
  } catch (error) {
    writeFileSync(stopFile, '');
    // Let the readers finish so none outlives the test, then report the real failure.
    await Promise.allSettled(readers.map((r) => r.report));
    throw error;
  }
  writeFileSync(stopFile, '');
  return Promise.all(readers.map((r) => r.report));
}
