import { InfraError } from './errors.js';

/**
 * Ends a command-line run on an error: the message alone for the errors this package (or
 * function-spec) throws on purpose, since they say what to do; the stack trace otherwise.
 */
export function reportFailure(error: unknown): void {
  const code = (error as { code?: unknown } | null)?.code;
  const expected = error instanceof InfraError || (error instanceof Error && code === 'EINVALIDSPEC');
  process.stderr.write(
    `${expected ? (error as Error).message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
