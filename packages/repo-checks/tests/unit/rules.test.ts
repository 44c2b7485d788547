// The checks themselves, on small inline workflows and a fake workspace: each rule must catch what
// it is there to catch, or the tests over the real workflows prove nothing.
import { describe, expect, it } from 'vitest';

import {
  callProblems,
  jobPermissions,
  parseGithubText,
  pinProblem,
  runSteps,
  schemaProblems,
  selectPackages,
  simpleCommands,
  toolCalls,
  usesRefs,
  workflowPermissions,
  writeScopes,
  YamlParseError,
  type Workspace,
} from '../../src/index.js';

const CHECKOUT = 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683';

const workflow = (text: string) => parseGithubText('.github/workflows/test.yml', 'workflow', text);

const workspace: Workspace = {
  root: { name: 'root', dir: '.', private: true, version: null, scripts: { build: 'turbo run build', synth: 'node x.js' } },
  packages: [
    { name: '@x/lib', dir: 'packages/lib', private: false, version: '1.0.0', scripts: { build: 'tsc', test: 'vitest run' } },
    { name: '@x/infra', dir: 'infra', private: true, version: '0.0.0', scripts: { build: 'tsc', plan: 'node plan.js' } },
  ],
  turboTasks: new Set(['build', 'test', 'lint']),
};
const problemsOf = (script: string): string[] =>
  simpleCommands(script)
    .flatMap(toolCalls)
    .flatMap((call) => callProblems(call, workspace));

describe('pinProblem', () => {
  const refs = usesRefs(
    workflow(`on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: ${CHECKOUT} # v4.2.2
      - uses: actions/checkout@v4
      - uses: ${CHECKOUT}
      - uses: ${CHECKOUT} # main
      - uses: ./.github/actions/setup
      - uses: docker://alpine:3
      - uses: docker://alpine@sha256:${'a'.repeat(64)}
  b:
    uses: org/repo/.github/workflows/x.yml@${'b'.repeat(40)} # v1.0.0
`),
  );

  it('accepts a full SHA with its release in a comment, local actions and digest-pinned images', () => {
    expect(refs.map(pinProblem)).toEqual([
      null,
      expect.stringMatching(/tag or branch/),
      expect.stringMatching(/# vX\.Y\.Z/),
      expect.stringMatching(/# vX\.Y\.Z/),
      null,
      expect.stringMatching(/digest/),
      null,
      null,
    ]);
  });

  it('says where each uses: is', () => {
    expect(refs.map((ref) => `${ref.location}:${ref.line}`)).toEqual([
      'jobs.a.steps[0]:6',
      'jobs.a.steps[1]:7',
      'jobs.a.steps[2]:8',
      'jobs.a.steps[3]:9',
      'jobs.a.steps[4]:10',
      'jobs.a.steps[5]:11',
      'jobs.a.steps[6]:12',
      'jobs.b:14',
    ]);
  });
});

describe('permissions', () => {
  const file = workflow(`on: push
permissions:
  contents: read
jobs:
  inherits:
    runs-on: ubuntu-latest
    steps: [{ run: 'true' }]
  writes:
    runs-on: ubuntu-latest
    permissions: { contents: write, id-token: write, pull-requests: read }
    steps: [{ run: 'true' }]
  everything:
    runs-on: ubuntu-latest
    permissions: write-all
    steps: [{ run: 'true' }]
`);

  it('reads the workflow default and each job override', () => {
    expect(workflowPermissions(file)).toEqual({ contents: 'read' });
    const jobs = jobPermissions(file);
    expect(writeScopes(jobs.get('inherits') ?? null)).toEqual([]);
    expect(writeScopes(jobs.get('writes') ?? null)).toEqual(['contents', 'id-token']);
    expect(writeScopes(jobs.get('everything') ?? null)).toEqual(['*']);
  });

  it('reports a workflow without permissions as null', () => {
    expect(workflowPermissions(workflow('on: push\njobs: {}\n'))).toBeNull();
  });
});

describe('schemaProblems', () => {
  it('passes a valid workflow', () => {
    expect(
      schemaProblems(
        workflow(`on: push\npermissions: { contents: read }\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps: [{ run: 'true' }]\n`),
      ),
    ).toEqual([]);
  });

  it('reports an invalid permission level and an unknown needs', () => {
    const problems = schemaProblems(
      workflow(
        `on: push\npermissions: { contents: raed }\njobs:\n  a:\n    runs-on: ubuntu-latest\n    needs: [nope]\n    steps: [{ run: 'true' }]\n`,
      ),
    );
    expect(problems.join('\n')).toMatch(/permissions/);
    expect(problems.join('\n')).toMatch(/nope/);
  });

  it('refuses YAML with a duplicated key before any schema check', () => {
    expect(() => workflow('on: push\non: pull_request\njobs: {}\n')).toThrow(YamlParseError);
  });
});

describe('runSteps', () => {
  it('gives each script and the line it starts on', () => {
    const steps = runSteps(
      workflow(`on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: pnpm build
      - working-directory: infra
        run: |
          echo one
          pnpm synth
`),
    );
    expect(steps.map((step) => [step.location, step.line, step.workingDirectory])).toEqual([
      ['jobs.a.steps[0]', 6, null],
      ['jobs.a.steps[1]', 9, 'infra'],
    ]);
  });
});

describe('selectPackages', () => {
  it('selects by name, unscoped name, glob, directory and graph selector', () => {
    const names = (filter: string): string[] | string => {
      const result = selectPackages(workspace, filter);
      return typeof result === 'string' ? result : result.map((pkg) => pkg.name);
    };
    expect(names('@x/lib')).toEqual(['@x/lib']);
    expect(names('infra')).toEqual(['@x/infra']);
    expect(names('@x/*')).toEqual(['@x/lib', '@x/infra']);
    expect(names('./packages/*')).toEqual(['@x/lib']);
    expect(names('{infra}')).toEqual(['@x/infra']);
    expect(names('@x/lib...')).toEqual(['@x/lib']);
    expect(names('...^@x/infra')).toEqual(['@x/infra']);
    expect(names('nothing')).toEqual([]);
    expect(names('[origin/main]')).toMatch(/git changes/);
  });
});

describe('callProblems', () => {
  it('accepts scripts, tasks and filters that exist', () => {
    expect(problemsOf('pnpm build && pnpm synth && pnpm --filter @x/infra plan && pnpm exec turbo run build test --filter=@x/lib')).toEqual(
      [],
    );
    expect(problemsOf('pnpm install --frozen-lockfile && pnpm --filter @x/lib pack && pnpm -r test')).toEqual([]);
  });

  it('reports a root script that does not exist', () => {
    expect(problemsOf('pnpm deploy-all')).toEqual(['root (.) has no "deploy-all" script']);
  });

  it('reports a filtered package without the script, and a filter that selects nothing', () => {
    expect(problemsOf('pnpm --filter @x/lib plan')).toEqual(['@x/lib (packages/lib) has no "plan" script']);
    expect(problemsOf('pnpm --filter @x/nope build')).toEqual(['filter "@x/nope" matches no workspace package']);
    expect(problemsOf('pnpm --filter @x/nope pack')).toEqual(['filter "@x/nope" matches no workspace package']);
  });

  it('reports a turbo task missing from turbo.json, and a filtered package turbo would silently skip', () => {
    expect(problemsOf('pnpm exec turbo run typecheck')).toEqual(['turbo.json defines no task "typecheck"']);
    expect(problemsOf('turbo run test --filter=@x/infra')).toEqual(['turbo task test: @x/infra has no "test" script']);
  });

  it('reports calls it cannot check', () => {
    expect(problemsOf('pnpm --filter "$PKG" build')).toEqual(['cannot check: the value of --filter depends on the environment']);
  });
});
