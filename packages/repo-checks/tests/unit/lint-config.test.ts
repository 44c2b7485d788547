// The root eslint.config.js really enforces the type-aware promise rules: ESLint's own Node API lints
// small snippets as if they sat in a package's src/ or tests/, and the rules must fire. Turning a
// rule off, or dropping the type information they need, fails these tests.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../helpers/paths.js';

const PROMISE_RULES = [
  '@typescript-eslint/no-floating-promises',
  '@typescript-eslint/no-misused-promises',
  '@typescript-eslint/await-thenable',
];

// lintText with the path of a file that exists in a tsconfig project: the project service reads the
// given text instead of the file, so nothing is written to disk.
const SRC_FILE = join(REPO_ROOT, 'packages/repo-checks/src/index.ts');
const TEST_FILE = join(REPO_ROOT, 'packages/repo-checks/tests/helpers/paths.ts');

const eslint = new ESLint({ cwd: REPO_ROOT });

async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  const messages = result?.messages ?? [];
  // A parse or project-service failure is a message without a rule: surface it rather than pass.
  const fatal = messages.filter((message) => message.fatal === true);
  expect(fatal).toEqual([]);
  return messages.map((message) => message.ruleId ?? '');
}

/** Every workspace package directory (apps/*, packages/*, infra). */
function workspacePackages(): string[] {
  const under = (dir: string) =>
    readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => join(dir, entry.name));
  return [...under('apps'), ...under('packages'), 'infra'];
}

// The first lint builds the TypeScript program of a package: about 10 s of CPU, minutes of wall time
// when the machine is running every package's tests and lint at once.
describe('eslint.config.js: type-aware promise rules', { timeout: 600_000 }, () => {
  it('reports a floating promise in src/', async () => {
    const code = ['export async function later(): Promise<void> {}', 'export function caller(): void {', '  later();', '}', ''].join('\n');
    expect(await ruleIds(code, SRC_FILE)).toContain('@typescript-eslint/no-floating-promises');
  });

  it('reports a floating promise in tests/ too', async () => {
    const code = 'export async function later(): Promise<void> {}\nlater();\n';
    expect(await ruleIds(code, TEST_FILE)).toContain('@typescript-eslint/no-floating-promises');
  });

  it('reports an async callback where a void one is expected, and a promise used as a condition', async () => {
    const code = [
      'export async function save(value: number): Promise<number> { return value; }',
      'export function saveAll(values: number[]): void {',
      '  values.forEach(async (value) => { await save(value); });',
      '}',
      'export function check(): number {',
      '  const pending = save(1);',
      '  return pending ? 1 : 0;',
      '}',
      '',
    ].join('\n');
    const ids = await ruleIds(code, SRC_FILE);
    expect(ids.filter((id) => id === '@typescript-eslint/no-misused-promises')).toHaveLength(2);
  });

  it('reports awaiting a value that is not a promise', async () => {
    const code = 'export async function twice(value: number): Promise<number> {\n  return (await value) * 2;\n}\n';
    expect(await ruleIds(code, SRC_FILE)).toContain('@typescript-eslint/await-thenable');
  });

  it('accepts the same code once the promises are handled', async () => {
    const code = [
      'export async function later(): Promise<void> {}',
      'export async function caller(values: number[]): Promise<void> {',
      '  await later();',
      '  await Promise.all(values.map(async () => { await later(); }));',
      '}',
      '',
    ].join('\n');
    expect(await ruleIds(code, SRC_FILE)).toEqual([]);
  });

  it('turns the rules on, with type information, for the src and tests of every package', async () => {
    const packages = workspacePackages();
    expect(packages.length).toBeGreaterThanOrEqual(10);
    for (const pkg of packages) {
      for (const file of ['src/any.ts', 'tests/unit/any.test.ts']) {
        const config = (await eslint.calculateConfigForFile(join(REPO_ROOT, pkg, file))) as {
          rules?: Record<string, unknown>;
          languageOptions?: { parserOptions?: { projectService?: unknown } };
        };
        const where = `${pkg}/${file}`;
        expect(config.languageOptions?.parserOptions?.projectService, where).toBe(true);
        for (const rule of PROMISE_RULES) {
          // ESLint normalizes "error" to severity 2.
          expect([config.rules?.[rule]].flat()[0], `${rule} in ${where}`).toBe(2);
        }
      }
    }
  });
});
