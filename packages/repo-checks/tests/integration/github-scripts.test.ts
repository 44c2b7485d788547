// The shell scripts the workflows run, executed for real with stand-ins for what only GitHub and
// the registries have: `npm`, `pnpm` and `gh` are small scripts on PATH that log their arguments,
// the git remote is a bare repository in a temporary directory.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { REPO_ROOT } from '../helpers/paths.js';
import { runProgram } from '../helpers/run.js';

const SCRIPTS = join(REPO_ROOT, '.github', 'scripts');
const FIXTURES = new URL('../fixtures/', import.meta.url);

let temp = '';
beforeEach(() => {
  temp = mkdtempSync(join(tmpdir(), 'repo-checks-scripts-'));
});
afterEach(() => {
  rmSync(temp, { recursive: true, force: true });
});

/** A fake program on PATH: logs `name args…` (one line) to calls.log, then runs `body`. */
function fakeProgram(bin: string, name: string, body: string): void {
  mkdirSync(bin, { recursive: true });
  const path = join(bin, name);
  writeFileSync(path, `#!/usr/bin/env bash\nprintf '%s\\n' "${name} $*" >> "$CALLS_LOG"\n${body}\n`);
  chmodSync(path, 0o755);
}

// Whatever the machine's git configuration says (signing, hooks, default branch), not here.
const GIT_ENV = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    env: GIT_ENV,
  });
}

describe('plan-summary.sh', () => {
  const summary = (fixture: string, env: Record<string, string> = {}) =>
    runProgram('bash', [join(SCRIPTS, 'plan-summary.sh'), 'lambda-efs-dev', new URL(fixture, FIXTURES).pathname], {
      cwd: temp,
      env: { ...process.env, ...env },
    });

  it('puts the verdict on top and the plan in a folded block', async () => {
    const { code, stdout } = await summary('plan-changes.txt');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^### `lambda-efs-dev`\n\n\*\*Plan: 1 to add, 1 to change, 0 to destroy\.\*\*\n\n<details>/);
    expect(stdout).toContain('~ retention_in_days = 7 -> 14');
    expect(stdout.trimEnd().endsWith('</details>')).toBe(true);
  });

  it('says "No changes." for an unchanged stack', async () => {
    const { stdout } = await summary('plan-no-changes.txt');
    expect(stdout).toContain('**No changes. Your infrastructure matches the configuration.**');
  });

  it('cuts a long plan and says where the rest is', async () => {
    const { stdout } = await summary('plan-changes.txt', { PLAN_SUMMARY_LIMIT: '200' });
    expect(stdout).not.toContain('aws_sns_topic_subscription');
    expect(stdout).toMatch(/… cut at 200 of \d+ bytes; the whole plan is in the job log\./);
  });
});

describe('install-terraform.sh', () => {
  it('refuses a zip whose SHA-256 is not the pinned one, and installs nothing', async () => {
    const mirror = join(temp, 'mirror', '1.11.4');
    mkdirSync(mirror, { recursive: true });
    writeFileSync(join(mirror, 'terraform_1.11.4_linux_amd64.zip'), 'not the release');
    const dest = join(temp, 'bin');
    const { code, stderr } = await runProgram('bash', [join(SCRIPTS, 'install-terraform.sh'), dest], {
      cwd: temp,
      env: { ...process.env, TERRAFORM_RELEASES_URL: `file://${join(temp, 'mirror')}`, GITHUB_PATH: join(temp, 'github-path') },
    });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/refusing it|pins the linux_amd64 build only/);
    expect(existsSync(join(dest, 'terraform'))).toBe(false);
    expect(existsSync(join(dest, 'terraform_1.11.4_linux_amd64.zip'))).toBe(false);
    expect(existsSync(join(temp, 'github-path'))).toBe(false);
  });
});

/** A checkout with packages/efs-utils at `version`, and fake npm/pnpm/gh. */
function releaseFixture(options: { version: string; repository: string | null; onNpm: boolean; released: boolean }) {
  const repo = join(temp, 'repo');
  const bin = join(temp, 'bin');
  const runnerTemp = join(temp, 'runner');
  mkdirSync(join(repo, 'packages', 'efs-utils'), { recursive: true });
  mkdirSync(runnerTemp);
  writeFileSync(
    join(repo, 'packages', 'efs-utils', 'package.json'),
    JSON.stringify({
      name: '@lambda-efs/efs-utils',
      version: options.version,
      ...(options.repository === null ? {} : { repository: { type: 'git', url: options.repository, directory: 'packages/efs-utils' } }),
    }),
  );
  writeFileSync(
    join(repo, 'packages', 'efs-utils', 'CHANGELOG.md'),
    `# @lambda-efs/efs-utils\n\n## ${options.version}\n\n### Minor Changes\n\n- Shared locks.\n\n## 0.1.0\n\n- First.\n`,
  );
  fakeProgram(
    bin,
    'npm',
    `case "$1" in
  view) ${options.onNpm ? `echo "${options.version}"` : `echo "npm error code E404" >&2; exit 1`} ;;
  publish) printf 'userconfig %s\\n' "$(cat "\${NPM_CONFIG_USERCONFIG:-/dev/null}")" >> "$CALLS_LOG" ;;
esac`,
  );
  fakeProgram(bin, 'pnpm', 'mkdir -p "$5" && echo tarball > "$5/lambda-efs-efs-utils.tgz"');
  fakeProgram(
    bin,
    'gh',
    `case "$1 $2" in
  "release view") ${options.released ? 'exit 0' : 'exit 1'} ;;
  "release create") while [ $# -gt 0 ]; do if [ "$1" = --notes-file ]; then sed 's/^/notes: /' "$2" >> "$CALLS_LOG"; fi; shift; done ;;
esac`,
  );
  const calls = join(temp, 'calls.log');
  const output = join(temp, 'github-output');
  writeFileSync(calls, '');
  writeFileSync(output, '');
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env['PATH'] ?? ''}`,
    CALLS_LOG: calls,
    GITHUB_OUTPUT: output,
    GITHUB_REPOSITORY: 'Acme/lambda-efs',
    GITHUB_SHA: 'abc123',
    RUNNER_TEMP: runnerTemp,
    NPM_TOKEN: '',
  };
  const publish = (mode: string, extraEnv: Record<string, string> = {}) =>
    runProgram('bash', [join(SCRIPTS, 'publish-efs-utils.sh'), mode], { cwd: repo, env: { ...env, ...extraEnv } });
  return {
    publish,
    calls: () =>
      readFileSync(calls, 'utf8')
        .trim()
        .split('\n')
        .filter((line) => line !== ''),
    output: () => readFileSync(output, 'utf8'),
  };
}

const REPOSITORY = 'git+https://github.com/acme/lambda-efs.git';

describe('publish-efs-utils.sh', () => {
  it('status: reports done only when the version is on npm and released on GitHub', async () => {
    const pending = releaseFixture({ version: '0.2.0', repository: REPOSITORY, onNpm: true, released: false });
    expect((await pending.publish('status')).code).toBe(0);
    expect(pending.output()).toBe('done=false\n');
    rmSync(temp, { recursive: true, force: true });
    mkdirSync(temp);
    const done = releaseFixture({ version: '0.2.0', repository: REPOSITORY, onNpm: true, released: true });
    expect((await done.publish('status')).code).toBe(0);
    expect(done.output()).toBe('done=true\n');
  });

  it('publish: packs with pnpm, publishes the tarball with provenance, then tags and releases with the changelog', async () => {
    const fixture = releaseFixture({ version: '0.2.0', repository: REPOSITORY, onNpm: false, released: false });
    const { code, stderr } = await fixture.publish('publish');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const runner = join(temp, 'runner');
    const calls = fixture.calls();
    expect(
      calls.filter((line) => !line.startsWith('notes:')).map((line) => line.replace(/--notes-file \S+$/, '--notes-file <file>')),
    ).toEqual([
      'npm view @lambda-efs/efs-utils@0.2.0 version',
      'npm install --global --no-audit --no-fund --loglevel=error npm@11.21.2',
      `pnpm --filter @lambda-efs/efs-utils pack --pack-destination ${runner}/pack`,
      `npm publish ${runner}/pack/lambda-efs-efs-utils.tgz --access public --provenance --tag latest`,
      'userconfig ',
      'gh release view @lambda-efs/efs-utils@0.2.0 --repo Acme/lambda-efs',
      'gh release create @lambda-efs/efs-utils@0.2.0 --repo Acme/lambda-efs --target abc123 --title @lambda-efs/efs-utils@0.2.0 --notes-file <file>',
    ]);
    // The release notes are this version's CHANGELOG section, not the previous one's.
    const notes = calls.filter((line) => line.startsWith('notes:')).map((line) => line.slice('notes:'.length).trim());
    expect(notes.filter((line) => line !== '')).toEqual(['### Minor Changes', '- Shared locks.']);
  });

  it('publish: uses NPM_TOKEN through an npmrc that names the variable, never its value', async () => {
    const fixture = releaseFixture({ version: '0.2.0-rc.1', repository: REPOSITORY, onNpm: false, released: true });
    expect((await fixture.publish('publish', { NPM_TOKEN: 'secret-token' })).code).toBe(0);
    expect(fixture.calls()).toContain(
      `npm publish ${join(temp, 'runner')}/pack/lambda-efs-efs-utils.tgz --access public --provenance --tag next`,
    );
    expect(fixture.calls()).toContain('userconfig //registry.npmjs.org/:_authToken=${NPM_TOKEN}');
    expect(fixture.calls().join('\n')).not.toContain('secret-token');
  });

  it('publish: refuses before publishing when package.json does not name this repository', async () => {
    const fixture = releaseFixture({ version: '0.2.0', repository: null, onNpm: false, released: false });
    const { code, stdout } = await fixture.publish('publish');
    expect(code).toBe(1);
    expect(stdout).toContain('"url": "git+https://github.com/Acme/lambda-efs.git"');
    expect(fixture.calls().filter((line) => !line.startsWith('npm view'))).toEqual([]);
  });

  it('publish: skips npm for a version already there and only creates the missing release', async () => {
    const fixture = releaseFixture({ version: '0.2.0', repository: REPOSITORY, onNpm: true, released: false });
    expect((await fixture.publish('publish')).code).toBe(0);
    expect(fixture.calls().filter((line) => /^(npm publish|pnpm)/.test(line))).toEqual([]);
    expect(fixture.calls().some((line) => line.startsWith('gh release create @lambda-efs/efs-utils@0.2.0'))).toBe(true);
  });

  it('stops, without guessing, when npm view fails for another reason than E404', async () => {
    const fixture = releaseFixture({ version: '0.2.0', repository: REPOSITORY, onNpm: false, released: false });
    fakeProgram(join(temp, 'bin'), 'npm', 'echo "npm error code ETIMEDOUT" >&2; exit 1');
    const { code, stderr } = await fixture.publish('publish');
    expect(code).toBe(1);
    expect(stderr).toContain('not guessing whether it is published');
  });
});

describe('version-pr.sh', () => {
  function versionFixture(existingPr: string) {
    const remote = join(temp, 'remote.git');
    const repo = join(temp, 'repo');
    const bin = join(temp, 'bin');
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', remote], { env: GIT_ENV });
    mkdirSync(join(repo, 'packages', 'efs-utils'), { recursive: true });
    git(repo, 'init', '--quiet', '--initial-branch=main');
    writeFileSync(join(repo, 'packages', 'efs-utils', 'package.json'), JSON.stringify({ name: '@lambda-efs/efs-utils', version: '0.1.0' }));
    writeFileSync(join(repo, '.changeset-fake.md'), 'pending\n');
    git(repo, 'add', '--all');
    git(repo, 'commit', '--quiet', '--message', 'init');
    git(repo, 'remote', 'add', 'origin', remote);
    git(repo, 'push', '--quiet', 'origin', 'main');
    // What `pnpm changeset version` leaves behind.
    writeFileSync(join(repo, 'packages', 'efs-utils', 'package.json'), JSON.stringify({ name: '@lambda-efs/efs-utils', version: '0.2.0' }));
    writeFileSync(
      join(repo, 'packages', 'efs-utils', 'CHANGELOG.md'),
      '# @lambda-efs/efs-utils\n\n## 0.2.0\n\n### Minor Changes\n\n- Shared locks.\n',
    );
    rmSync(join(repo, '.changeset-fake.md'));
    fakeProgram(
      bin,
      'gh',
      `case "$1 $2" in
  "pr list") echo "${existingPr}" ;;
  "pr create"|"pr edit") while [ $# -gt 0 ]; do if [ "$1" = --body-file ]; then sed 's/^/body: /' "$2" >> "$CALLS_LOG"; fi; shift; done ;;
esac`,
    );
    const calls = join(temp, 'calls.log');
    writeFileSync(calls, '');
    const env = { ...GIT_ENV, PATH: `${bin}:${process.env['PATH'] ?? ''}`, CALLS_LOG: calls, GITHUB_REF_NAME: 'main' };
    return {
      run: () => runProgram('bash', [join(SCRIPTS, 'version-pr.sh')], { cwd: repo, env }),
      calls: () => readFileSync(calls, 'utf8').trim().split('\n'),
      remoteFiles: () => git(remote, 'ls-tree', '-r', '--name-only', 'changeset-release/main').trim().split('\n'),
    };
  }

  it('pushes the version commit to changeset-release/main and opens the pull request with the changelog', async () => {
    const fixture = versionFixture('');
    const { code, stderr } = await fixture.run();
    expect(code, stderr).toBe(0);
    expect(fixture.remoteFiles()).toEqual(['packages/efs-utils/CHANGELOG.md', 'packages/efs-utils/package.json']);
    const calls = fixture.calls();
    expect(calls[0]).toBe('gh pr list --head changeset-release/main --base main --state open --json number --jq .[0].number // empty');
    expect(calls[1]).toMatch(/^gh pr create --head changeset-release\/main --base main --title Version packages --body-file /);
    expect(calls).toContain('body: ## @lambda-efs/efs-utils@0.2.0');
    expect(calls).toContain('body: - Shared locks.');
  });

  it('updates the pull request that is already open', async () => {
    const fixture = versionFixture('7');
    expect((await fixture.run()).code).toBe(0);
    expect(fixture.calls()[1]).toMatch(/^gh pr edit 7 --title Version packages --body-file /);
  });
});
