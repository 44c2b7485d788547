// Recognizes `pnpm` and `turbo` calls in simple commands and says what each one needs from the
// workspace: a package script, a turbo task, or nothing (a pnpm built-in such as `install`).
import type { ShellWord, SimpleCommand } from './shell.js';

/** What a `pnpm`/`turbo` command line asks for. */
export type ToolCall =
  | {
      /** `pnpm build`, `pnpm run lint`, `pnpm --filter @x/y plan`, `pnpm -C infra synth`. */
      readonly kind: 'script';
      readonly script: string;
      readonly filters: readonly string[];
      readonly dir: string | null;
      readonly recursive: boolean;
      readonly workspaceRoot: boolean;
      readonly command: string;
    }
  | {
      /** `turbo run build test --filter=…`, `pnpm exec turbo run …`, `pnpm turbo …`. */
      readonly kind: 'turbo';
      readonly tasks: readonly string[];
      readonly filters: readonly string[];
      readonly command: string;
    }
  | {
      /** A pnpm command that runs no script of ours: `install`, `pack`, `exec <bin>`, `store path`. */
      readonly kind: 'builtin';
      readonly name: string;
      /** `--filter` selections, which must still match a package. */
      readonly filters: readonly string[];
      readonly command: string;
    }
  | {
      /** A call that depends on the environment (`pnpm --filter "$PKG" test`): cannot be checked statically. */
      readonly kind: 'unresolvable';
      readonly reason: string;
      readonly command: string;
    };

// pnpm commands that are not "run this package script". `test` and `start` are handled as scripts.
const PNPM_BUILTINS = new Set([
  'add',
  'install',
  'i',
  'ci',
  'install-test',
  'it',
  'update',
  'up',
  'upgrade',
  'remove',
  'rm',
  'uninstall',
  'un',
  'link',
  'ln',
  'unlink',
  'import',
  'rebuild',
  'rb',
  'prune',
  'fetch',
  'patch',
  'patch-commit',
  'patch-remove',
  'audit',
  'list',
  'ls',
  'll',
  'la',
  'outdated',
  'why',
  'licenses',
  'pack',
  'publish',
  'store',
  'root',
  'bin',
  'config',
  'c',
  'get',
  'set',
  'init',
  'doctor',
  'setup',
  'env',
  'server',
  'dlx',
  'create',
  'approve-builds',
  'ignored-builds',
  'deploy',
  'cat-file',
  'cat-index',
  'find-hash',
  'self-update',
  'dedupe',
  'help',
  'recursive',
  'multi',
  'm',
  'version',
  'login',
  'logout',
  'whoami',
  'view',
  'info',
  'show',
  'dist-tag',
  'owner',
  'search',
]);

// pnpm options that take the next word as their value (unless written `--opt=value`).
const PNPM_VALUE_OPTIONS = new Set([
  '--filter',
  '-F',
  '--filter-prod',
  '--dir',
  '-C',
  '--workspace-concurrency',
  '--reporter',
  '--loglevel',
  '--test-pattern',
  '--changed-files-ignore-pattern',
  '--resume-from',
  '--pack-destination',
  '--out',
  '--tag',
  '--access',
  '--otp',
  '--registry',
  '--store-dir',
  '--virtual-store-dir',
  '--modules-dir',
  '--lockfile-dir',
]);

// turbo options that take the next word as their value (unless written `--opt=value`).
const TURBO_VALUE_OPTIONS = new Set([
  '--filter',
  '-F',
  '--concurrency',
  '--cache-dir',
  '--output-logs',
  '--log-order',
  '--ui',
  '--cache',
  '--env-mode',
  '--log-prefix',
  '--token',
  '--team',
  '--api',
  '--heap',
  '--profile',
  '--cwd',
  '--global-deps',
  '--env',
]);

/**
 * The pnpm/turbo calls in one simple command (at most one; none for other programs).
 * Recognized: `pnpm …`, `turbo …`, `npx turbo …`, `pnpm exec turbo …`, `pnpm turbo …`.
 */
export function toolCalls(command: SimpleCommand): ToolCall[] {
  const words = command.words;
  const program = words[0];
  if (program === undefined || !program.literal) return [];
  const text = words.map((word) => word.text).join(' ');
  if (program.text === 'pnpm') return [pnpmCall(words.slice(1), text)];
  if (program.text === 'turbo') return [turboCall(words.slice(1), text)];
  if (program.text === 'npx' && words[1]?.text === 'turbo') return [turboCall(words.slice(2), text)];
  return [];
}

function pnpmCall(args: readonly ShellWord[], command: string): ToolCall {
  const filters: string[] = [];
  let dir: string | null = null;
  let recursive = false;
  let workspaceRoot = false;
  let index = 0;
  while (index < args.length) {
    const arg = args[index];
    if (arg === undefined || !arg.text.startsWith('-')) break;
    if (!arg.literal) return { kind: 'unresolvable', reason: `option ${arg.text} depends on the environment`, command };
    const [name, inline] = splitOption(arg.text);
    let value: ShellWord | undefined;
    if (inline !== null) value = { text: inline, literal: true };
    else if (PNPM_VALUE_OPTIONS.has(name)) {
      index++;
      value = args[index];
      if (value === undefined) return { kind: 'unresolvable', reason: `${name} has no value`, command };
    }
    if (value !== undefined && !value.literal) {
      return { kind: 'unresolvable', reason: `the value of ${name} depends on the environment`, command };
    }
    if (name === '--filter' || name === '-F' || name === '--filter-prod') filters.push(value?.text ?? '');
    else if (name === '--dir' || name === '-C') dir = value?.text ?? null;
    else if (name === '-r' || name === '--recursive') recursive = true;
    else if (name === '-w' || name === '--workspace-root') workspaceRoot = true;
    index++;
  }
  const sub = args[index];
  if (sub === undefined) return { kind: 'builtin', name: 'install', filters, command };
  if (!sub.literal) return { kind: 'unresolvable', reason: `the command ${sub.text} depends on the environment`, command };
  const rest = args.slice(index + 1);
  if (sub.text === 'exec' || sub.text === 'turbo') {
    const bin = sub.text === 'turbo' ? sub : rest[0];
    if (bin?.text === 'turbo') return turboCall(sub.text === 'turbo' ? rest : rest.slice(1), command);
    return { kind: 'builtin', name: `exec ${bin?.text ?? ''}`.trim(), filters, command };
  }
  let script: ShellWord | undefined;
  if (sub.text === 'run' || sub.text === 'run-script') {
    script = rest.find((word) => !word.text.startsWith('-'));
    if (script === undefined) return { kind: 'builtin', name: 'run (list)', filters, command };
  } else if (sub.text === 'test' || sub.text === 't' || sub.text === 'tst') {
    script = { text: 'test', literal: true };
  } else if (sub.text === 'start') {
    script = { text: 'start', literal: true };
  } else if (PNPM_BUILTINS.has(sub.text)) {
    return { kind: 'builtin', name: sub.text, filters, command };
  } else {
    script = sub;
  }
  if (!script.literal) return { kind: 'unresolvable', reason: `the script ${script.text} depends on the environment`, command };
  return { kind: 'script', script: script.text, filters, dir, recursive, workspaceRoot, command };
}

function turboCall(args: readonly ShellWord[], command: string): ToolCall {
  const filters: string[] = [];
  const tasks: string[] = [];
  let index = 0;
  if (args[0]?.text === 'run') index = 1;
  while (index < args.length) {
    const arg = args[index];
    if (arg === undefined) break;
    if (!arg.literal) return { kind: 'unresolvable', reason: `${arg.text} depends on the environment`, command };
    if (arg.text === '--') break;
    if (arg.text.startsWith('-')) {
      const [name, inline] = splitOption(arg.text);
      let value = inline;
      if (inline === null && TURBO_VALUE_OPTIONS.has(name)) {
        index++;
        const next = args[index];
        if (next === undefined || !next.literal) {
          return { kind: 'unresolvable', reason: `the value of ${name} is missing or depends on the environment`, command };
        }
        value = next.text;
      }
      if ((name === '--filter' || name === '-F') && value !== null) filters.push(value);
    } else {
      tasks.push(arg.text);
    }
    index++;
  }
  if (tasks.length === 0) return { kind: 'builtin', name: 'turbo', filters, command };
  return { kind: 'turbo', tasks, filters, command };
}

function splitOption(text: string): [string, string | null] {
  const eq = text.indexOf('=');
  return eq === -1 ? [text, null] : [text.slice(0, eq), text.slice(eq + 1)];
}
