import { describe, expect, it } from 'vitest';

import { simpleCommands, toolCalls, type ToolCall } from '../../src/index.js';

const words = (script: string): string[][] => simpleCommands(script).map((command) => command.words.map((word) => word.text));
const calls = (script: string): ToolCall[] => simpleCommands(script).flatMap(toolCalls);

describe('simpleCommands', () => {
  it('splits on operators, newlines and line continuations', () => {
    expect(words('cd infra && pnpm synth || echo no; pnpm test | tee log\npnpm \\\n  build')).toEqual([
      ['cd', 'infra'],
      ['pnpm', 'synth'],
      ['echo', 'no'],
      ['pnpm', 'test'],
      ['tee', 'log'],
      ['pnpm', 'build'],
    ]);
  });

  it('removes quotes, drops comments and redirections', () => {
    expect(words(`echo "a b" 'c d' e\\ f # not a command\npnpm synth > out.txt 2>&1\necho x >> "$GITHUB_OUTPUT"`)).toEqual([
      ['echo', 'a b', 'c d', 'e f'],
      ['pnpm', 'synth'],
      ['echo', 'x'],
    ]);
  });

  it('strips assignments, reserved words and wrappers before the program', () => {
    expect(words('if ! FOO=1 env BAR=2 pnpm lint; then exec pnpm test; fi')).toEqual([
      ['pnpm', 'lint'],
      ['pnpm', 'test'],
    ]);
  });

  it('finds commands inside $(…) and backticks', () => {
    expect(words('store="$(pnpm store path --silent)"\nv=`pnpm --version`\necho "x $(pnpm synth)"')).toEqual([
      ['pnpm', 'store', 'path', '--silent'],
      ['pnpm', '--version'],
      ['pnpm', 'synth'],
      ['echo', 'x $(pnpm synth)'],
    ]);
  });

  it('skips heredoc bodies', () => {
    expect(words("cat <<'EOF' > file\npnpm not-a-command\nEOF\npnpm build")).toEqual([['cat'], ['pnpm', 'build']]);
  });

  it('marks words that depend on the environment as non-literal', () => {
    const [command] = simpleCommands('pnpm --filter "$PKG" ${{ matrix.task }} plain');
    expect(command?.words.map((word) => [word.text, word.literal])).toEqual([
      ['pnpm', true],
      ['--filter', true],
      ['$PKG', false],
      ['${{matrix.task}}', false],
      ['plain', true],
    ]);
  });

  it('numbers lines from 1, continuation lines included', () => {
    expect(simpleCommands('echo a\n\npnpm \\\n build\npnpm test').map((command) => command.line)).toEqual([1, 3, 5]);
  });
});

describe('toolCalls', () => {
  it('reads root scripts, filtered scripts and pnpm run', () => {
    expect(calls('pnpm build; pnpm run lint --if-present; pnpm --filter @lambda-efs/infra plan; pnpm -C infra synth')).toMatchObject([
      { kind: 'script', script: 'build', filters: [], dir: null },
      { kind: 'script', script: 'lint', filters: [] },
      { kind: 'script', script: 'plan', filters: ['@lambda-efs/infra'] },
      { kind: 'script', script: 'synth', dir: 'infra' },
    ]);
  });

  it('reads turbo tasks and filters however turbo is started', () => {
    expect(
      calls('pnpm exec turbo run build test --filter=@x/a --output-logs errors-only; npx turbo lint -F @x/b; turbo run typecheck'),
    ).toMatchObject([
      { kind: 'turbo', tasks: ['build', 'test'], filters: ['@x/a'] },
      { kind: 'turbo', tasks: ['lint'], filters: ['@x/b'] },
      { kind: 'turbo', tasks: ['typecheck'], filters: [] },
    ]);
  });

  it('treats pnpm built-ins as built-ins, keeping their filters', () => {
    expect(calls('pnpm install --frozen-lockfile; pnpm --filter @x/a pack --pack-destination out; pnpm exec tsc; pnpm test')).toMatchObject(
      [
        { kind: 'builtin', name: 'install' },
        { kind: 'builtin', name: 'pack', filters: ['@x/a'] },
        { kind: 'builtin', name: 'exec tsc' },
        { kind: 'script', script: 'test' },
      ],
    );
  });

  it('refuses to guess a script or filter that depends on the environment', () => {
    expect(calls('pnpm --filter "$PKG" test; pnpm "$SCRIPT"; pnpm exec turbo run ${{ matrix.task }}').map((call) => call.kind)).toEqual([
      'unresolvable',
      'unresolvable',
      'unresolvable',
    ]);
  });

  it('ignores other programs', () => {
    expect(calls('npm install -g pnpm@10; node -p 1; terraform validate')).toEqual([]);
  });
});
