// The workspace as pnpm and turbo see it: the root package, the packages matched by
// pnpm-workspace.yaml, their scripts, and turbo's tasks; and whether a pnpm/turbo call finds
// what it asks for.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';

import { parse } from 'yaml';

import { WorkspaceError } from './errors.js';
import type { ToolCall } from './pnpm.js';

export interface WorkspacePackage {
  readonly name: string;
  /** Directory relative to the repository root, with `/`. `'.'` for the root package. */
  readonly dir: string;
  readonly private: boolean;
  readonly version: string | null;
  readonly scripts: Readonly<Record<string, string>>;
}

export interface Workspace {
  readonly root: WorkspacePackage;
  readonly packages: readonly WorkspacePackage[];
  /** Task names in the root turbo.json (`build`, `//#lint`, `pkg#task` kept as written). */
  readonly turboTasks: ReadonlySet<string>;
}

/**
 * Reads the workspace under `repoRoot`. Supports the `pnpm-workspace.yaml` patterns this repository
 * uses: a directory (`infra`) or a directory's children (`apps/*`).
 * @throws {WorkspaceError} on a pattern it does not support or an unreadable package.json.
 */
export function readWorkspace(repoRoot: string): Workspace {
  const manifest = parse(readFileSync(join(repoRoot, 'pnpm-workspace.yaml'), 'utf8')) as { packages?: unknown };
  const patterns = Array.isArray(manifest.packages) ? (manifest.packages as unknown[]) : [];
  const dirs: string[] = [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string' || pattern.startsWith('!')) continue;
    if (/^[\w.-]+(\/[\w.-]+)*\/\*$/.test(pattern)) {
      const parent = pattern.slice(0, -2);
      const absolute = join(repoRoot, parent);
      if (!existsSync(absolute)) continue;
      for (const entry of readdirSync(absolute, { withFileTypes: true })) {
        if (entry.isDirectory() && existsSync(join(absolute, entry.name, 'package.json'))) dirs.push(`${parent}/${entry.name}`);
      }
    } else if (/^[\w.-]+(\/[\w.-]+)*$/.test(pattern)) {
      if (existsSync(join(repoRoot, pattern, 'package.json'))) dirs.push(pattern);
    } else {
      throw new WorkspaceError(
        `pnpm-workspace.yaml pattern ${JSON.stringify(pattern)} is not supported by readWorkspace; extend it in packages/repo-checks/src/workspace.ts.`,
      );
    }
  }
  const turbo = JSON.parse(readFileSync(join(repoRoot, 'turbo.json'), 'utf8')) as { tasks?: Record<string, unknown> };
  return {
    root: readPackage(repoRoot, '.'),
    packages: dirs.sort().map((dir) => readPackage(repoRoot, dir)),
    turboTasks: new Set(Object.keys(turbo.tasks ?? {})),
  };
}

function readPackage(repoRoot: string, dir: string): WorkspacePackage {
  const path = join(repoRoot, dir, 'package.json');
  let json: { name?: unknown; private?: unknown; version?: unknown; scripts?: unknown };
  try {
    json = JSON.parse(readFileSync(path, 'utf8')) as typeof json;
  } catch (error) {
    throw new WorkspaceError(`${path} could not be read as JSON; fix it and run the checks again.`, { cause: error });
  }
  if (typeof json.name !== 'string') throw new WorkspaceError(`${path} has no "name"; every workspace package needs one.`);
  const scripts: Record<string, string> = {};
  if (typeof json.scripts === 'object' && json.scripts !== null) {
    for (const [key, value] of Object.entries(json.scripts)) if (typeof value === 'string') scripts[key] = value;
  }
  return {
    name: json.name,
    dir,
    private: json.private === true,
    version: typeof json.version === 'string' ? json.version : null,
    scripts,
  };
}

/**
 * The packages a pnpm/turbo `--filter` selects: by name (`@lambda-efs/infra`, or `infra` when that
 * unscoped name is unique), by name glob (`@lambda-efs/*`), or by directory (`./packages/*`, `{infra}`).
 * Graph suffixes and prefixes (`pkg...`, `...pkg`, `^`) select at least the named package.
 * @returns the packages, or a string saying why the filter cannot be checked.
 */
export function selectPackages(workspace: Workspace, filter: string): WorkspacePackage[] | string {
  let selector = filter.trim();
  if (selector.startsWith('!')) return [];
  if (selector.includes('[')) return `filter ${JSON.stringify(filter)} selects by git changes; the check cannot evaluate it`;
  selector = selector.replace(/^\.\.\.\^?/, '').replace(/\^?\.\.\.$/, '');
  const all = [workspace.root, ...workspace.packages];
  const directory = /^\{(.+)\}$/.exec(selector)?.[1] ?? (selector.startsWith('./') || selector === '.' ? selector : null);
  if (directory !== null) {
    const pattern = globRegExp(posix.normalize(directory));
    return all.filter((pkg) => pattern.test(pkg.dir));
  }
  const pattern = globRegExp(selector);
  const byName = all.filter((pkg) => pattern.test(pkg.name));
  if (byName.length > 0 || selector.includes('*')) return byName;
  const unscoped = workspace.packages.filter((pkg) => pkg.name.replace(/^@[^/]+\//, '') === selector);
  return unscoped.length === 1 ? unscoped : [];
}

function globRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*');
  return new RegExp(`^${escaped}$`);
}

/**
 * What is wrong with one pnpm/turbo call against the workspace: an unknown script or task, a filter
 * that selects nothing, a selected package without the script. Empty when the call will find what it
 * runs. `unresolvable` calls are reported too: write workflow commands with literal names.
 * @param cwd the directory the command runs in, relative to the root (a step's `working-directory`).
 * @default cwd '.'
 */
export function callProblems(call: ToolCall, workspace: Workspace, cwd = '.'): string[] {
  const problems: string[] = [];
  const select = (filters: readonly string[]): WorkspacePackage[] => {
    const selected = new Map<string, WorkspacePackage>();
    for (const filter of filters) {
      const result = selectPackages(workspace, filter);
      if (typeof result === 'string') problems.push(result);
      else if (result.length === 0 && !filter.startsWith('!'))
        problems.push(`filter ${JSON.stringify(filter)} matches no workspace package`);
      else for (const pkg of result) selected.set(pkg.name, pkg);
    }
    return [...selected.values()];
  };

  switch (call.kind) {
    case 'unresolvable':
      problems.push(`cannot check: ${call.reason}`);
      break;
    case 'builtin':
      select(call.filters);
      break;
    case 'script': {
      let targets: WorkspacePackage[];
      if (call.dir !== null || (cwd !== '.' && call.filters.length === 0 && !call.workspaceRoot)) {
        const dir = posix.normalize(posix.join(cwd, call.dir ?? '.'));
        const pkg = [workspace.root, ...workspace.packages].find((candidate) => candidate.dir === dir);
        if (pkg === undefined) problems.push(`directory ${dir} is not a workspace package`);
        targets = pkg === undefined ? [] : [pkg];
      } else if (call.filters.length > 0) {
        targets = select(call.filters);
      } else if (call.recursive && !call.workspaceRoot) {
        if (!workspace.packages.some((pkg) => call.script in pkg.scripts)) {
          problems.push(`no workspace package has a "${call.script}" script`);
        }
        targets = [];
      } else {
        targets = [workspace.root];
      }
      for (const pkg of targets) {
        if (!(call.script in pkg.scripts)) problems.push(`${pkg.name} (${pkg.dir}) has no "${call.script}" script`);
      }
      break;
    }
    case 'turbo': {
      const selected = call.filters.length > 0 ? select(call.filters) : null;
      for (const task of call.tasks) {
        const [taskPackage, taskName] = task.includes('#') ? (task.split('#', 2) as [string, string]) : [null, task];
        if (!workspace.turboTasks.has(taskName) && !workspace.turboTasks.has(task)) {
          problems.push(`turbo.json defines no task "${taskName}"`);
          continue;
        }
        if (taskPackage !== null) {
          const pkg = taskPackage === '//' ? workspace.root : workspace.packages.find((candidate) => candidate.name === taskPackage);
          if (pkg === undefined) problems.push(`turbo task ${task}: no package ${taskPackage}`);
          else if (!(taskName in pkg.scripts)) problems.push(`turbo task ${task}: ${pkg.name} has no "${taskName}" script`);
        } else if (selected !== null) {
          // turbo skips filtered packages without the script, silently: make that an error.
          for (const pkg of selected) {
            if (!(taskName in pkg.scripts)) problems.push(`turbo task ${task}: ${pkg.name} has no "${taskName}" script`);
          }
        } else if (!workspace.packages.some((pkg) => taskName in pkg.scripts)) {
          problems.push(`turbo task ${task}: no workspace package has a "${taskName}" script`);
        }
      }
      break;
    }
  }
  return problems;
}
