// The repository's own workflows and composite action, against the house rules: schema-valid,
// every action pinned to a commit, GITHUB_TOKEN read-only unless a job is listed below, and every
// pnpm/turbo call finding its script or task.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import {
  callProblems,
  isRecord,
  jobPermissions,
  jobsOf,
  loadGithubFiles,
  pinProblem,
  readWorkspace,
  runSteps,
  schemaProblems,
  simpleCommands,
  stepsOf,
  toolCalls,
  triggers,
  usesRefs,
  workflowPermissions,
  writeScopes,
  type GithubFile,
  type ToolCall,
} from '../../src/index.js';
import { REPO_ROOT } from '../helpers/paths.js';

const files = loadGithubFiles(REPO_ROOT);
const workspace = readWorkspace(REPO_ROOT);
const byPath = (path: string): GithubFile => {
  const file = files.find((candidate) => candidate.path === path);
  if (file === undefined) throw new Error(`${path} is missing`);
  return file;
};
const job = (path: string, id: string): Readonly<Record<string, unknown>> => {
  const found = jobsOf(byPath(path)).find((candidate) => candidate.id === id)?.job;
  if (found === undefined) throw new Error(`${path} has no job ${id}`);
  return found;
};

/**
 * Write access, job by job. Everything not listed gets `contents: read` only. Widening a job's
 * token means changing this table, in the same review as the workflow.
 */
const WRITE_SCOPES: Record<string, Record<string, string[]>> = {
  '.github/workflows/ci.yml': {},
  '.github/workflows/deploy.yml': { plan: ['id-token'], dev: ['id-token'], prod: ['id-token'] },
  '.github/workflows/deploy-stack.yml': { deploy: ['id-token'] },
  '.github/workflows/release.yml': { 'version-pr': ['contents', 'pull-requests'], publish: ['contents', 'id-token'] },
};

/** Jobs that push with the checkout's credentials; every other checkout drops them. */
const KEEPS_CHECKOUT_CREDENTIALS = new Set(['.github/workflows/release.yml#version-pr']);

/** The environments infra deploys (`ENVIRONMENT_NAMES` in infra/src/config.ts). */
function infraEnvironments(): string[] {
  const source = readFileSync(join(REPO_ROOT, 'infra/src/config.ts'), 'utf8');
  const list = /export const ENVIRONMENT_NAMES = \[([^\]]*)\] as const/.exec(source)?.[1];
  if (list === undefined) throw new Error('ENVIRONMENT_NAMES not found in infra/src/config.ts: update this test');
  return [...list.matchAll(/'([^']+)'/g)].map((match) => match[1] ?? '');
}

/** The deploy variables infra reads (`DEPLOY_VARIABLES` in infra/src/config.ts): `LAMBDA_EFS_STATE_BUCKET`, … */
function infraDeployVariables(): string[] {
  const source = readFileSync(join(REPO_ROOT, 'infra/src/config.ts'), 'utf8');
  const block = /export const DEPLOY_VARIABLES = Object\.freeze\(\{([^}]*)\}\)/.exec(source)?.[1];
  if (block === undefined) throw new Error('DEPLOY_VARIABLES not found in infra/src/config.ts: update this test');
  return [...block.matchAll(/'([A-Z0-9_]+)'/g)].map((match) => match[1] ?? '');
}

/** Every `'LAMBDA_EFS_…'` string literal in infra's sources: the variables infra's code reads. */
function infraVariableLiterals(dir = join(REPO_ROOT, 'infra/src')): Set<string> {
  const found = new Set<string>();
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) for (const name of infraVariableLiterals(path)) found.add(name);
    else if (entry.name.endsWith('.ts'))
      for (const match of readFileSync(path, 'utf8').matchAll(/['"`](LAMBDA_EFS_[A-Z0-9_]+)['"`]/g)) found.add(match[1] ?? '');
  }
  return found;
}

interface LocatedCall {
  readonly where: string;
  readonly cwd: string;
  readonly call: ToolCall;
}

/** Every pnpm/turbo call of a file's run steps, and of the repository scripts they run with bash. */
function toolCallsOf(file: GithubFile): { calls: LocatedCall[]; missingScripts: string[] } {
  const calls: LocatedCall[] = [];
  const missingScripts: string[] = [];
  const scan = (script: string, where: string, cwd: string, seen: Set<string>): void => {
    for (const command of simpleCommands(script)) {
      const at = `${where}:${command.line}`;
      for (const call of toolCalls(command)) calls.push({ where: at, cwd, call });
      const [program, target] = command.words;
      if ((program?.text === 'bash' || program?.text === 'sh') && target?.literal === true && !target.text.startsWith('-')) {
        const path = join(REPO_ROOT, cwd, target.text);
        if (!existsSync(path)) missingScripts.push(`${at}: ${target.text} does not exist`);
        else if (!seen.has(path)) scan(readFileSync(path, 'utf8'), target.text, '.', new Set([...seen, path]));
      }
    }
  };
  for (const step of runSteps(file)) {
    scan(step.script, `${file.path}:${step.location}@${step.line}`, step.workingDirectory ?? '.', new Set());
  }
  return { calls, missingScripts };
}

describe('the .github directory', () => {
  it('holds the ci, deploy and release workflows and the setup action', () => {
    expect(files.map((file) => file.path).sort()).toEqual([
      '.github/actions/setup/action.yml',
      '.github/workflows/ci.yml',
      '.github/workflows/deploy-stack.yml',
      '.github/workflows/deploy.yml',
      '.github/workflows/release.yml',
    ]);
  });

  it('pins each action to the same commit everywhere', () => {
    const shas = new Map<string, Set<string>>();
    for (const ref of files.flatMap(usesRefs)) {
      if (ref.uses.startsWith('./')) continue;
      const [action = '', sha = ''] = ref.uses.split('@');
      shas.set(action, new Set([...(shas.get(action) ?? []), `${sha} ${ref.comment ?? ''}`]));
    }
    const inconsistent = [...shas].filter(([, pins]) => pins.size > 1).map(([action, pins]) => `${action}: ${[...pins].join(', ')}`);
    expect(inconsistent).toEqual([]);
  });

  it('never runs on events that hand a fork write access or secrets', () => {
    const risky = files.filter(
      (file) => file.kind === 'workflow' && triggers(file).some((event) => ['pull_request_target', 'workflow_run'].includes(event)),
    );
    expect(risky.map((file) => file.path)).toEqual([]);
  });
});

describe.each(files.map((file) => [file.path, file] as const))('%s', (_path, file) => {
  it('is valid against the GitHub workflow/action schema (action-validator)', () => {
    expect(schemaProblems(file)).toEqual([]);
  });

  it('pins every uses: to a 40-character commit SHA with its release in a comment', () => {
    const unpinned = usesRefs(file).flatMap((ref) => {
      const problem = pinProblem(ref);
      return problem === null ? [] : [`${ref.file}:${ref.line} ${ref.uses}: ${problem}`];
    });
    expect(unpinned).toEqual([]);
  });

  it('calls only pnpm scripts, turbo tasks, filters and repository scripts that exist', () => {
    const { calls, missingScripts } = toolCallsOf(file);
    const problems = calls.flatMap(({ where, cwd, call }) =>
      callProblems(call, workspace, cwd).map((problem) => `${where} \`${call.command}\`: ${problem}`),
    );
    expect([...missingScripts, ...problems]).toEqual([]);
  });
});

const workflows = files.filter((file) => file.kind === 'workflow');

describe.each(workflows.map((file) => [file.path, file] as const))('%s', (_path, file) => {
  it('defaults GITHUB_TOKEN to contents: read', () => {
    expect(workflowPermissions(file)).toEqual({ contents: 'read' });
  });

  it('grants write access only to the jobs listed in this test', () => {
    const expected = WRITE_SCOPES[file.path];
    expect(expected, `add ${file.path} to WRITE_SCOPES`).toBeDefined();
    const actual = Object.fromEntries(
      [...jobPermissions(file)].flatMap(([id, permissions]) => {
        const scopes = writeScopes(permissions ?? workflowPermissions(file));
        return scopes.length === 0 ? [] : [[id, scopes]];
      }),
    );
    expect(actual).toEqual(expected);
  });

  it('checks out without keeping the token, except in jobs that push', () => {
    const keeping = jobsOf(file).flatMap(({ id, job: body }) =>
      stepsOf(body['steps'])
        .filter((step) => typeof step['uses'] === 'string' && step['uses'].startsWith('actions/checkout@'))
        .filter((step) => !(isRecord(step['with']) && step['with']['persist-credentials'] === false))
        .map(() => `${file.path}#${id}`),
    );
    expect(keeping.filter((key) => !KEEPS_CHECKOUT_CREDENTIALS.has(key))).toEqual([]);
  });

  it('gives every job a timeout', () => {
    const without = jobsOf(file)
      .filter(({ job: body }) => body['uses'] === undefined && typeof body['timeout-minutes'] !== 'number')
      .map(({ id }) => id);
    expect(without).toEqual([]);
  });
});

describe('ci.yml', () => {
  const ci = byPath('.github/workflows/ci.yml');
  const commands = (id: string): string =>
    stepsOf(job(ci.path, id)['steps'])
      .map((step) => String(step['run'] ?? ''))
      .join('\n');

  it('runs on pull requests and on pushes', () => {
    expect(triggers(ci)).toEqual(['pull_request', 'push']);
  });

  it('installs with the frozen lockfile and the pnpm version package.json pins', () => {
    const setup = readFileSync(join(REPO_ROOT, '.github/actions/setup/action.yml'), 'utf8');
    expect(setup).toMatch(/pnpm install --frozen-lockfile/);
    expect(setup).toMatch(/packageManager/);
  });

  it('builds, typechecks, lints and tests with turbo and its cache, then synthesizes and validates', () => {
    expect(commands('check')).toMatch(/turbo run build typecheck lint test\b/);
    expect(JSON.stringify(job(ci.path, 'check')['steps'])).toContain('"path":".turbo/cache"');
    expect(commands('check')).toMatch(/pnpm synth/);
    expect(commands('check')).toMatch(/terraform -chdir="\$dir" validate/);
  });

  it('tests efs-utils on Node.js 22 and 24 too', () => {
    const strategy = job(ci.path, 'efs-utils')['strategy'] as { matrix: { node: string[] } };
    expect(strategy.matrix.node).toEqual(expect.arrayContaining(['22', '24']));
    expect(commands('efs-utils')).toMatch(/turbo run test --filter=@lambda-efs\/efs-utils/);
  });
});

describe('deploy.yml and deploy-stack.yml', () => {
  const deploy = byPath('.github/workflows/deploy.yml');
  const stack = byPath('.github/workflows/deploy-stack.yml');
  const environments = infraEnvironments();

  it('plans on pull requests, deploys on pushes to main and on dispatch with an environment', () => {
    const on = deploy.data['on'] as Record<string, { branches?: string[]; inputs?: Record<string, { options?: string[] }> } | null>;
    expect(Object.keys(on)).toEqual(['pull_request', 'push', 'workflow_dispatch']);
    expect(on['push']?.branches).toEqual(['main']);
    expect(on['workflow_dispatch']?.inputs?.['environment']?.options).toEqual(environments);
    expect(job(deploy.path, 'plan')['if']).toBe("github.event_name == 'pull_request'");
  });

  it('plans every environment infra defines, and writes the plan to the job summary', () => {
    const plan = stepsOf(job(deploy.path, 'plan')['steps'])
      .map((step) => String(step['run'] ?? ''))
      .join('\n');
    expect(plan).toContain(`for stack in ${environments.map((name) => `lambda-efs-${name}`).join(' ')}; do`);
    expect(plan).toMatch(/plan-summary\.sh .*>> "\$GITHUB_STEP_SUMMARY"/);
  });

  it('has one deploy job per environment, prod after dev', () => {
    const deployJobs = jobsOf(deploy).filter(({ job: body }) => body['uses'] === './.github/workflows/deploy-stack.yml');
    expect(deployJobs.map(({ id, job: body }) => [id, (body['with'] as Record<string, string>)['environment']])).toEqual(
      environments.map((name) => [name, name]),
    );
    expect(job(deploy.path, 'prod')['needs']).toBe('dev');
  });

  it('deploys one stack at a time per environment, in that GitHub environment, with cdktf', () => {
    const body = job(stack.path, 'deploy');
    expect(body['environment']).toMatchObject({ name: '${{ inputs.environment }}' });
    expect(body['concurrency']).toEqual({ group: 'deploy-${{ inputs.environment }}', 'cancel-in-progress': false });
    expect((body['env'] as Record<string, string>)['STACK']).toBe('lambda-efs-${{ inputs.environment }}');
    const runs = stepsOf(body['steps'])
      .map((step) => String(step['run'] ?? ''))
      .join('\n');
    expect(runs).toContain('cdktf deploy "$STACK" --auto-approve');
    expect(runs).toContain('npm install --global --no-audit --no-fund --loglevel=error cdktf-cli@0.21.0');
    expect(runs).toMatch(/"\$ENVIRONMENT" = prod \] && \[ "\$GITHUB_REF" != refs\/heads\/main/);
  });

  it('smoke-tests the deployed API right after cdktf deploy, its Markdown table in the job summary, failing the job', () => {
    const steps = stepsOf(job(stack.path, 'deploy')['steps']);
    const deployAt = steps.findIndex((step) => String(step['run'] ?? '').includes('cdktf deploy'));
    const outputsAt = steps.findIndex((step) => step['id'] === 'outputs');
    const smokeAt = steps.findIndex((step) => /\bpnpm\b.*\bsmoke\b/.test(String(step['run'] ?? '')));
    expect(deployAt).toBeGreaterThanOrEqual(0);
    expect(outputsAt).toBeGreaterThan(deployAt);
    expect(String(steps[outputsAt]?.['run'])).toContain('output -raw api_url');
    expect(smokeAt).toBeGreaterThan(outputsAt);
    const smoke = steps[smokeAt] ?? {};
    // The URL arrives through env, never expanded into the script by the expression engine.
    expect(smoke['env']).toEqual({ API_URL: '${{ steps.outputs.outputs.api_url }}' });
    // One command whose status is the step's: a failed smoke step fails the job.
    expect(smoke['run']).toBe('pnpm --silent smoke "$API_URL" --format markdown >> "$GITHUB_STEP_SUMMARY"');
    expect(smoke).not.toHaveProperty('continue-on-error');
    expect(smoke).not.toHaveProperty('if');
    // Only the table reaches stdout (the summary): the root script sends turbo's build output to stderr.
    const scripts = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    expect(scripts['smoke']).toMatch(/^turbo run build --filter=@lambda-efs\/smoke [^&]*>&2 && node packages\/smoke\/dist\/cli\/bin\.js$/);
    expect(existsSync(join(REPO_ROOT, 'packages/smoke/src/cli/bin.ts'))).toBe(true);
  });

  it('passes every deploy variable infra reads from the repository or environment variables, and no synth-only switch', () => {
    const env = job(stack.path, 'deploy')['env'] as Record<string, string>;
    const deployVariables = infraDeployVariables();
    expect(deployVariables).toEqual(
      expect.arrayContaining(['LAMBDA_EFS_STATE_BUCKET', 'LAMBDA_EFS_RESERVED_CONCURRENCY', 'LAMBDA_EFS_ACCOUNT_CONCURRENCY']),
    );
    for (const name of deployVariables) expect(env[name], `deploy-stack.yml's env must pass ${name}`).toBe(`\${{ vars.${name} }}`);
    // The synth run's own variables: the one environment this job deploys, and never LAMBDA_EFS_ONLY_BUILT
    // (it leaves unbuilt functions out: for working on the repo, not for a deployment).
    expect(env['LAMBDA_EFS_ENVIRONMENTS']).toBe('${{ inputs.environment }}');
    expect(env).not.toHaveProperty('LAMBDA_EFS_ONLY_BUILT');
    // A variable infra's code names that is none of these must be classified here (passed, or not for deploys).
    const notForDeploys = ['LAMBDA_EFS_ENVIRONMENTS', 'LAMBDA_EFS_ONLY_BUILT', 'LAMBDA_EFS_TF_PLUGIN_DIR'];
    const unclassified = [...infraVariableLiterals()].filter((name) => !deployVariables.includes(name) && !notForDeploys.includes(name));
    expect(
      unclassified,
      'infra reads variables this test does not know: pass them in deploy-stack.yml or list them as not for deploys',
    ).toEqual([]);
  });

  it('assumes the role from a repository variable through OIDC', () => {
    const assume = stepsOf(job(stack.path, 'deploy')['steps']).find((step) =>
      String(step['uses']).startsWith('aws-actions/configure-aws-credentials@'),
    );
    expect(assume?.['with']).toMatchObject({ 'role-to-assume': '${{ vars.AWS_DEPLOY_ROLE_ARN }}' });
    expect(assume?.['with']).not.toHaveProperty('aws-access-key-id');
  });
});

describe('release.yml', () => {
  const release = byPath('.github/workflows/release.yml');

  it('opens the version pull request with changesets while changesets are pending', () => {
    const body = job(release.path, 'version-pr');
    expect(body['if']).toBe("needs.status.outputs.pending != '0'");
    expect(stepsOf(body['steps']).map((step) => step['run'])).toContain('pnpm changeset version');
  });

  it('publishes efs-utils with provenance from the npm environment when none is pending', () => {
    const body = job(release.path, 'publish');
    expect(body['if']).toBe("needs.status.outputs.pending == '0' && needs.status.outputs.released != 'true' && vars.NPM_PUBLISH == 'true'");
    expect(body['environment']).toBe('npm');
    const script = readFileSync(join(REPO_ROOT, '.github/scripts/publish-efs-utils.sh'), 'utf8');
    expect(script).toContain('npm publish "$tarball" --access public --provenance');
    expect(script).toContain('pnpm --filter @lambda-efs/efs-utils pack');
  });
});
