// Reads the repository's GitHub workflows and composite actions, and answers the questions the
// policy asks of them: what each `uses:` points at (and whether it is pinned to a commit), what
// each job may do with GITHUB_TOKEN and OIDC, and which shell each `run:` step executes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { validateAction, validateWorkflow, type ValidationError } from '@action-validator/core';
import { LineCounter, parseDocument, type Document, type Node } from 'yaml';

import { YamlParseError } from './errors.js';

export type GithubFileKind = 'workflow' | 'action';

/** One workflow (`.github/workflows/*.yml`) or composite action (`.github/actions/<name>/action.yml`). */
export interface GithubFile {
  /** Path relative to the repository root, with `/`. */
  readonly path: string;
  readonly kind: GithubFileKind;
  readonly text: string;
  /** The parsed YAML as plain data. */
  readonly data: Readonly<Record<string, unknown>>;
  /** The 1-based line of the node at `path` (`['jobs', 'test', 'steps', 0, 'uses']`), or 0 when absent. */
  lineOf(path: readonly (string | number)[]): number;
}

/**
 * Every workflow and composite action under `<repoRoot>/.github`, parsed.
 * @throws {YamlParseError} naming the file and the YAML errors when one does not parse.
 */
export function loadGithubFiles(repoRoot: string): GithubFile[] {
  const files: GithubFile[] = [];
  const workflows = join(repoRoot, '.github', 'workflows');
  if (existsSync(workflows)) {
    for (const name of readdirSync(workflows).sort()) {
      if (/\.ya?ml$/.test(name)) files.push(parseGithubFile(repoRoot, `.github/workflows/${name}`, 'workflow'));
    }
  }
  const actions = join(repoRoot, '.github', 'actions');
  if (existsSync(actions)) {
    for (const name of readdirSync(actions).sort()) {
      for (const file of ['action.yml', 'action.yaml']) {
        if (existsSync(join(actions, name, file))) files.push(parseGithubFile(repoRoot, `.github/actions/${name}/${file}`, 'action'));
      }
    }
  }
  return files;
}

/**
 * Parses one file. `path` is relative to `repoRoot`.
 * @throws {YamlParseError} when it is not valid YAML or not a mapping.
 */
export function parseGithubFile(repoRoot: string, path: string, kind: GithubFileKind): GithubFile {
  return parseGithubText(path, kind, readFileSync(join(repoRoot, path), 'utf8'));
}

/**
 * Parses workflow or action text (for tests, and for {@link parseGithubFile}).
 * @throws {YamlParseError} when it is not valid YAML or not a mapping.
 */
export function parseGithubText(path: string, kind: GithubFileKind, text: string): GithubFile {
  const lineCounter = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0)
    throw new YamlParseError(
      path,
      doc.errors.map((error) => error.message),
    );
  const data: unknown = doc.toJS();
  if (!isRecord(data)) throw new YamlParseError(path, ['the document is not a mapping']);
  return {
    path,
    kind,
    text,
    data,
    lineOf(nodePath) {
      const node = doc.getIn(nodePath, true) as Node | undefined;
      const start = node?.range?.[0];
      return start === undefined ? 0 : lineCounter.linePos(start).line;
    },
  };
}

/**
 * Schema problems found by action-validator (SchemaStore's workflow and action schemas, plus its own
 * checks such as unresolved `needs`). Empty when the file is valid.
 */
export function schemaProblems(file: GithubFile): string[] {
  const state = file.kind === 'workflow' ? validateWorkflow(file.text) : validateAction(file.text);
  return state.errors.map((error) => describeValidationError(error));
}

function describeValidationError(error: ValidationError): string {
  const where =
    'path' in error && typeof error.path === 'string'
      ? error.path
      : 'location' in error && error.location
        ? `line ${error.location.line}`
        : '';
  const nested =
    'states' in error && error.states !== undefined
      ? ` [${error.states.map((state) => state.errors.map(describeValidationError).join('; ')).join(' | ')}]`
      : '';
  return `${where} ${error.title}${error.detail === undefined ? '' : `: ${error.detail}`}${nested}`.trim();
}

/** One `uses:` of a step or of a job (reusable workflow). */
export interface UsesRef {
  readonly file: string;
  readonly line: number;
  /** Where: `jobs.test.steps[2]`, `jobs.deploy`, `runs.steps[0]`. */
  readonly location: string;
  readonly uses: string;
  /** The comment on the same line (`v4.2.2` in `… # v4.2.2`), or null. */
  readonly comment: string | null;
}

/** Every `uses:` in a workflow (job steps and job-level reusable workflows) or a composite action. */
export function usesRefs(file: GithubFile): UsesRef[] {
  const refs: UsesRef[] = [];
  const lines = file.text.split('\n');
  const add = (path: (string | number)[], location: string, uses: unknown): void => {
    if (typeof uses !== 'string') return;
    const line = file.lineOf(path);
    const comment = /\s#\s*(.*?)\s*$/.exec(lines[line - 1] ?? '')?.[1] ?? null;
    refs.push({ file: file.path, line, location, uses, comment });
  };
  for (const { id, job } of jobsOf(file)) {
    add(['jobs', id, 'uses'], `jobs.${id}`, job['uses']);
    stepsOf(job['steps']).forEach((step, index) => add(['jobs', id, 'steps', index, 'uses'], `jobs.${id}.steps[${index}]`, step['uses']));
  }
  const runs = file.data['runs'];
  if (isRecord(runs)) {
    stepsOf(runs['steps']).forEach((step, index) => add(['runs', 'steps', index, 'uses'], `runs.steps[${index}]`, step['uses']));
  }
  return refs;
}

const FULL_SHA = /^[0-9a-f]{40}$/;
const VERSION_COMMENT = /^v\d+\.\d+\.\d+$/;

/**
 * Why a `uses:` is not acceptable, or null when it is: a local path (`./…`), a Docker image pinned by
 * digest, or `owner/repo[/path]@<40-hex commit>` followed by a `# vX.Y.Z` comment naming the release.
 */
export function pinProblem(ref: UsesRef): string | null {
  const { uses } = ref;
  if (uses.startsWith('./')) return null;
  if (uses.startsWith('docker://')) {
    return /@sha256:[0-9a-f]{64}$/.test(uses) ? null : 'a Docker image must be pinned by digest (docker://image@sha256:…)';
  }
  const at = uses.lastIndexOf('@');
  if (at === -1) return 'no @ref: pin the action to a full commit SHA';
  const ref40 = uses.slice(at + 1);
  if (!/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?$/.test(uses.slice(0, at))) return `"${uses.slice(0, at)}" is not owner/repo[/path]`;
  if (!FULL_SHA.test(ref40)) return `"${ref40}" is a tag or branch: pin the action to its 40-character commit SHA`;
  if (ref.comment === null || !VERSION_COMMENT.test(ref.comment)) {
    return 'add the release the SHA stands for as a comment on the same line (# vX.Y.Z)';
  }
  return null;
}

/** A `run:` step's shell text and where it is. */
export interface RunStep {
  readonly file: string;
  readonly location: string;
  /** The 1-based line of the script's first line. */
  readonly line: number;
  readonly script: string;
  readonly workingDirectory: string | null;
}

/** Every `run:` step of every job (or of a composite action). */
export function runSteps(file: GithubFile): RunStep[] {
  const steps: RunStep[] = [];
  const add = (path: (string | number)[], location: string, step: Readonly<Record<string, unknown>>): void => {
    const run = step['run'];
    if (typeof run !== 'string') return;
    const headerLine = file.lineOf([...path, 'run']);
    // A block scalar (`run: |`) starts on the line after its indicator.
    const firstLine = /\brun:\s*[|>]/.test(file.text.split('\n')[headerLine - 1] ?? '') ? headerLine + 1 : headerLine;
    const dir = step['working-directory'];
    steps.push({ file: file.path, location, line: firstLine, script: run, workingDirectory: typeof dir === 'string' ? dir : null });
  };
  for (const { id, job } of jobsOf(file)) {
    stepsOf(job['steps']).forEach((step, index) => add(['jobs', id, 'steps', index], `jobs.${id}.steps[${index}]`, step));
  }
  const runs = file.data['runs'];
  if (isRecord(runs)) stepsOf(runs['steps']).forEach((step, index) => add(['runs', 'steps', index], `runs.steps[${index}]`, step));
  return steps;
}

/** A GITHUB_TOKEN permissions value as written: a scope map, `read-all`/`write-all`, or absent (null). */
export type Permissions = Readonly<Record<string, string>> | 'read-all' | 'write-all' | null;

/** The workflow's top-level `permissions`. */
export function workflowPermissions(file: GithubFile): Permissions {
  return asPermissions(file.data['permissions']);
}

/** Each job's own `permissions` (null when the job inherits the workflow's). */
export function jobPermissions(file: GithubFile): Map<string, Permissions> {
  return new Map(jobsOf(file).map(({ id, job }) => [id, asPermissions(job['permissions'])]));
}

/** The scopes a permissions value grants `write` on (`['*']` for `write-all`). */
export function writeScopes(permissions: Permissions): string[] {
  if (permissions === 'write-all') return ['*'];
  if (permissions === null || permissions === 'read-all') return [];
  return Object.entries(permissions)
    .filter(([, level]) => level === 'write')
    .map(([scope]) => scope)
    .sort();
}

function asPermissions(value: unknown): Permissions {
  if (value === undefined || value === null) return null;
  if (value === 'read-all' || value === 'write-all') return value;
  if (isRecord(value)) return Object.fromEntries(Object.entries(value).map(([scope, level]) => [scope, String(level)]));
  // Anything else is invalid (the schema check says so); count it as the worst case.
  return 'write-all';
}

/** The jobs of a workflow, in file order. */
export function jobsOf(file: GithubFile): { id: string; job: Readonly<Record<string, unknown>> }[] {
  const jobs = file.data['jobs'];
  if (!isRecord(jobs)) return [];
  return Object.entries(jobs).flatMap(([id, job]) => (isRecord(job) ? [{ id, job }] : []));
}

/** The steps of a `steps:` value that are mappings. */
export function stepsOf(value: unknown): Readonly<Record<string, unknown>>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

/** The event names a workflow runs on (`on:` as a string, a list or a mapping). */
export function triggers(file: GithubFile): string[] {
  const on = file.data['on'];
  if (typeof on === 'string') return [on];
  if (Array.isArray(on)) return on.filter((event): event is string => typeof event === 'string');
  if (isRecord(on)) return Object.keys(on);
  return [];
}

export function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
