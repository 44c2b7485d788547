#!/usr/bin/env node
// `pnpm synth` (root) / `pnpm --filter @lambda-efs/infra synth`: writes the Terraform JSON of every
// environment to infra/cdktf.out/stacks/<stack>/cdk.tf.json, from the real apps' declarations.
// Also what `cdktf synth` runs (cdktf.json: "app": "node dist/main.js").
// Environment: LAMBDA_EFS_ENVIRONMENTS, LAMBDA_EFS_ONLY_BUILT, LAMBDA_EFS_STATE_BUCKET,
// LAMBDA_EFS_STATE_REGION, LAMBDA_EFS_ALARM_EMAIL, LAMBDA_EFS_ACCOUNT_ID (see README.md).
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { environmentConfig, readDeployEnvironment, readSynthEnvironment, type InfraConfig } from './config.js';
import { reportFailure } from './report.js';
import { synthesize } from './synth.js';
import { appSystem } from './system.js';

const infraRoot = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const deploy = readDeployEnvironment(process.env);
  const run = readSynthEnvironment(process.env);
  // cdktf-cli passes its output directory in CDKTF_OUTDIR.
  const outdir = resolve(process.env['CDKTF_OUTDIR'] ?? join(infraRoot, 'cdktf.out'));
  const configs = run.environments.map((name): InfraConfig => {
    const config = environmentConfig(name, deploy);
    if (config.backend.kind !== 'local') return config;
    // Local state next to the package (infra/terraform.<stack>.tfstate, git-ignored), not inside
    // cdktf.out, which is output and may be wiped.
    const stackDir = join(outdir, 'stacks', config.namePrefix);
    const statePath = relative(stackDir, join(infraRoot, `terraform.${config.namePrefix}.tfstate`))
      .split(sep)
      .join('/');
    return { ...config, backend: { kind: 'local', path: statePath } };
  });

  const result = await synthesize({ outdir, configs, system: appSystem(), onlyBuilt: run.onlyBuilt });

  if (result.skipped.length > 0) {
    const bar = '!'.repeat(100);
    process.stderr.write(
      `${bar}\nWARNING: LAMBDA_EFS_ONLY_BUILT left out ${result.skipped.length} function(s) whose handler is not built.\n` +
        'The synthesized stacks do NOT deploy them or their routes; do not apply these stacks to a shared environment.\n' +
        result.skipped.map((error) => `  - ${error.functionName}: ${error.entry} (build: ${error.buildCommand})`).join('\n') +
        `\n${bar}\n`,
    );
  }
  for (const skipped of result.skippedReleases) process.stderr.write(`WARNING: LAMBDA_EFS_ONLY_BUILT left out ${skipped}.\n`);
  for (const warning of result.staleEntries) process.stderr.write(`WARNING: ${warning}\n`);
  for (const stack of result.stacks) {
    for (const warning of stack.warnings) process.stderr.write(`WARNING (${stack.id}): ${warning}\n`);
  }
  const functions = [...result.bundles.keys()].join(', ') || 'none';
  const releases = result.releases.map(
    (release) => `  release ${release.target} ${release.version}: ${release.bytes} bytes, sha256 ${release.sha256Hex}`,
  );
  const lines = result.stacks.map(
    (stack) => `  ${stack.id}: ${relative(process.cwd(), join(stack.directory, 'cdk.tf.json')) || stack.directory}`,
  );
  // performance.now() counts from process start: module loading included.
  const seconds = (performance.now() / 1000).toFixed(2);
  process.stdout.write(
    `Synthesized ${result.stacks.length} stack(s) with functions ${functions} in ${seconds} s:\n${[...lines, ...releases].join('\n')}\n` +
      `Next: cd ${relative(process.cwd(), result.stacks[0]?.directory ?? outdir) || '.'} && terraform init && terraform plan\n`,
  );
}

main().catch(reportFailure);
