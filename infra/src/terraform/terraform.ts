// Running the terraform CLI: finding it on PATH, finding a preinstalled provider so `init` works
// without the registry, and the offline init → validate → plan sequence.
import { spawn } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

import { TerraformCommandError, TerraformNotFoundError } from '../errors.js';

/** The provider the synthesized stacks require (@cdktf/provider-aws 20.1.0 binds it). */
export const AWS_PROVIDER = Object.freeze({ namespace: 'hashicorp', type: 'aws', version: '5.100.0' });

/**
 * The absolute path of `terraform` on PATH.
 * @throws {TerraformNotFoundError} saying how to install it.
 */
export function findTerraform(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const names = process.platform === 'win32' ? ['terraform.exe'] : ['terraform'];
  for (const directory of (env['PATH'] ?? '').split(delimiter)) {
    if (directory === '') continue;
    for (const name of names) {
      const candidate = join(directory, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (statSync(candidate).isFile()) return candidate;
      } catch {
        // Not here: try the next PATH entry.
      }
    }
  }
  throw new TerraformNotFoundError();
}

/** Terraform's name of this machine's platform: `linux_amd64`, `darwin_arm64`. */
export function terraformPlatform(): string {
  const arch = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? '386' : process.arch;
  return `${process.platform === 'win32' ? 'windows' : process.platform}_${arch}`;
}

/** Whether `pluginDir` (a `-plugin-dir` value) holds the pinned AWS provider for this platform. */
export function holdsAwsProvider(pluginDir: string): boolean {
  const { namespace, type, version } = AWS_PROVIDER;
  return existsSync(join(pluginDir, 'registry.terraform.io', namespace, type, version, terraformPlatform()));
}

// Never scanned: kernel and device trees.
const SKIPPED_ROOTS = new Set(['proc', 'sys', 'dev']);

/**
 * A directory to pass as `terraform init -plugin-dir=…` because it holds the pinned AWS provider,
 * discovered at run time (never a path written in the repository): `LAMBDA_EFS_TF_PLUGIN_DIR` if
 * set, else the parent of a `registry.terraform.io` directory at most three levels below `/` (as
 * `find / -maxdepth 3 -name registry.terraform.io`) that holds it. `null` when there is none: a
 * plain `terraform init` then uses Terraform's implied local mirrors or the registry.
 */
export function findProviderPluginDir(env: Readonly<Record<string, string | undefined>> = process.env): string | null {
  const override = env['LAMBDA_EFS_TF_PLUGIN_DIR'];
  if (override !== undefined && override !== '') return holdsAwsProvider(override) ? override : null;
  const candidates: string[] = [];
  for (const first of listDirectories('/')) {
    if (SKIPPED_ROOTS.has(first)) continue;
    const level1 = join('/', first);
    if (first === 'registry.terraform.io') candidates.push(level1);
    for (const second of listDirectories(level1)) {
      const level2 = join(level1, second);
      if (second === 'registry.terraform.io') candidates.push(level2);
      if (listDirectories(level2).includes('registry.terraform.io')) candidates.push(join(level2, 'registry.terraform.io'));
    }
  }
  for (const registry of candidates) {
    const pluginDir = dirname(registry);
    if (holdsAwsProvider(pluginDir)) return pluginDir;
  }
  return null;
}

function listDirectories(directory: string): string[] {
  try {
    return readdirSync(directory, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return [];
  }
}

export interface RunOptions {
  /** Working directory: the synthesized stack's directory. */
  readonly cwd: string;
  /** The terraform executable. @default findTerraform() */
  readonly terraform?: string;
}

/**
 * Runs `terraform <args>` without prompts, colours or the version check, and returns its stdout.
 * @throws {TerraformCommandError} with the end of its output when it exits non-zero.
 */
export function runTerraform(args: readonly string[], options: RunOptions): Promise<string> {
  const terraform = options.terraform ?? findTerraform();
  const env = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
  return new Promise((resolve, reject) => {
    const child = spawn(terraform, [...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => reject(new TerraformCommandError(`terraform ${args.join(' ')}`, null, error.message)));
    child.on('close', (code) => {
      const out = Buffer.concat(stdout).toString('utf8');
      if (code === 0) resolve(out);
      else reject(new TerraformCommandError(`terraform ${args.join(' ')}`, code, `${out}\n${Buffer.concat(stderr).toString('utf8')}`));
    });
  });
}

/** What {@link offlinePlan} found. */
export interface OfflinePlanResult {
  /** The `-plugin-dir` used, or `null` for a plain init. */
  readonly pluginDir: string | null;
  /** Resources to create, by Terraform type, sorted by type. */
  readonly createsByType: Readonly<Record<string, number>>;
  /** Every planned action other than create (there should be none for a new stack). */
  readonly otherActions: readonly string[];
  /** The planned output names. */
  readonly outputs: readonly string[];
  /** `terraform show -json` of the plan. */
  readonly planJson: unknown;
}

interface PlanJson {
  resource_changes?: { address: string; type: string; mode: string; change: { actions: string[] } }[];
  planned_values?: { outputs?: Record<string, unknown> };
}

/**
 * `terraform init` (with the discovered `-plugin-dir`, else plain), `validate` and `plan` in a
 * synthesized stack directory. For a stack whose provider is the offline mock profile nothing
 * reaches AWS. Steps write `.terraform/`, the lock file and `tfplan` into `stackDir`.
 * @throws {TerraformNotFoundError} when terraform is not on PATH.
 * @throws {TerraformCommandError} when a step fails.
 */
export async function offlinePlan(stackDir: string, options: { pluginDir?: string | null } = {}): Promise<OfflinePlanResult> {
  const terraform = findTerraform();
  const pluginDir = options.pluginDir === undefined ? findProviderPluginDir() : options.pluginDir;
  const run = (args: string[]): Promise<string> => runTerraform(args, { cwd: stackDir, terraform });
  await run(['init', '-input=false', '-no-color', ...(pluginDir === null ? [] : [`-plugin-dir=${pluginDir}`])]);
  await run(['validate', '-no-color']);
  await run(['plan', '-input=false', '-no-color', '-lock=false', '-out=tfplan']);
  const planJson = JSON.parse(await run(['show', '-json', '-no-color', 'tfplan'])) as PlanJson;

  const creates: Record<string, number> = {};
  const otherActions: string[] = [];
  for (const change of planJson.resource_changes ?? []) {
    if (change.mode !== 'managed') continue;
    if (change.change.actions.length === 1 && change.change.actions[0] === 'create') {
      creates[change.type] = (creates[change.type] ?? 0) + 1;
    } else {
      otherActions.push(`${change.address}: ${change.change.actions.join(', ')}`);
    }
  }
  const createsByType = Object.fromEntries(Object.entries(creates).sort(([a], [b]) => a.localeCompare(b)));
  return {
    pluginDir,
    createsByType,
    otherActions,
    outputs: Object.keys(planJson.planned_values?.outputs ?? {}).sort(),
    planJson,
  };
}
