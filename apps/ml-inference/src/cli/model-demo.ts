#!/usr/bin/env node
// pnpm --filter @lambda-efs/ml-inference model:demo [--efs-root <dir>]
//
// Generates the demo model and installs it where the local runtime's ml-inference reads it,
// <repo>/.efs/ml/models/demo (the declaration's MODEL_DIR and MODEL_NAME, rebased as the local
// runtime does). Idempotent: when the model already has a current release, nothing changes.
import { existsSync } from 'node:fs';
import { chown, chmod, mkdir, mkdtemp, readlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';

import { removeTree, switchSymlink, withLock } from '@lambda-efs/efs-utils';
import { DEMO_VERSION, writeDemoModel } from '@lambda-efs/onnx-models';

import { loadNativeLibraries } from '../core/native.js';
import { systemErrorCode } from '../errors.js';
import { accessPoint } from '../function.js';
import { installModel, InstallError } from '../install/install.js';
import { defaultEfsRoot, localModelLocation, runMain, userPath } from './shared.js';

/** Creates the access point's directory as EFS (and the local runtime) would: declared mode and owner. */
async function ensureAccessPointDir(efsRoot: string, dir: string): Promise<void> {
  if (existsSync(dir)) return;
  await mkdir(efsRoot, { recursive: true, mode: 0o755 });
  await mkdir(dirname(dir), { recursive: true, mode: 0o755 });
  const mode = Number.parseInt(accessPoint.permissions, 8);
  try {
    await mkdir(dir, { mode });
  } catch (error) {
    if (systemErrorCode(error) !== 'EEXIST') throw error;
    return;
  }
  await chmod(dir, mode);
  if (process.getuid?.() === 0) await chown(dir, accessPoint.owner.uid, accessPoint.owner.gid);
}

runMain(async () => {
  const { values } = parseArgs({ options: { 'efs-root': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help === true) {
    process.stdout.write('Usage: model:demo [--efs-root <dir>]   installs the demo model for the local runtime (idempotent)\n');
    return;
  }
  const efsRoot = values['efs-root'] === undefined ? defaultEfsRoot() : userPath(values['efs-root']);
  const { modelsDir, name, accessPointDir } = localModelLocation(efsRoot);
  await ensureAccessPointDir(efsRoot, accessPointDir);
  const modelDir = join(modelsDir, name);
  const current = join(modelDir, 'current');
  try {
    const target = await readlink(current);
    process.stdout.write(`Model "${name}" is already installed (${current} -> ${target}); nothing to do.\n`);
    return;
  } catch (error) {
    if (systemErrorCode(error) !== 'ENOENT') throw error;
  }
  if (existsSync(join(modelDir, 'releases', DEMO_VERSION, 'release.json'))) {
    await withLock(current, (lock) => switchSymlink(current, `releases/${DEMO_VERSION}`, { lock }));
    process.stdout.write(`Model "${name}": current -> releases/${DEMO_VERSION} (already installed, now current).\n`);
    return;
  }
  const scratch = await mkdtemp(join(tmpdir(), 'ml-demo-'));
  try {
    await writeDemoModel(scratch);
    const { ort, versions } = loadNativeLibraries({ nodeModulesDir: undefined });
    const result = await installModel({ source: scratch, modelsDir, name, version: DEMO_VERSION, ort, ortVersion: versions.onnxruntime });
    process.stdout.write(
      `Installed the demo model as "${name}" ${result.version} in ${result.releaseDir}; current -> releases/${result.version}\n`,
    );
  } catch (error) {
    // Another model:demo got there first.
    if (error instanceof InstallError && existsSync(join(modelDir, 'releases', DEMO_VERSION))) {
      process.stdout.write(`Model "${name}" ${DEMO_VERSION} was installed concurrently; nothing to do.\n`);
      return;
    }
    throw error;
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
});
