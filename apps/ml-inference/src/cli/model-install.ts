#!/usr/bin/env node
// pnpm model:install <dir-or-onnx-file> --name <name> --version <version> [options]
//
// Publishes a model as models/<name>/releases/<version>/ and switches models/<name>/current to
// it, atomically (see install/install.ts). Locally the models directory is <repo>/.efs/ml/models;
// on AWS run it from a machine that mounts the EFS file system, with --models-dir.
import { parseArgs } from 'node:util';

import { loadNativeLibraries } from '../core/native.js';
import { installModel, InstallError } from '../install/install.js';
import { formatBytes, progressBar } from '../install/progress.js';
import { modelsDirFrom, runMain, userPath } from './shared.js';

const USAGE = `Usage: pnpm model:install <model-dir | model.onnx> --name <name> --version <version> [options]

  <model-dir>        a directory with model.onnx, labels.txt and (optionally) model.json
  <model.onnx>       an ONNX file; labels.txt and model.json are looked for beside it

Options:
  --name <name>          model name: MODEL_NAME of the function (required)
  --version <version>    release version, new for every install (required)
  --models-dir <dir>     the models directory (default: $MODEL_DIR, else <repo>/.efs/ml/models);
                         on AWS: where the EFS access point /ml is mounted, plus /models
  --labels <file>        labels.txt to use (one label per line, in class order)
  --config <file>        model.json to use (default: beside the model, else the post's preprocessing)
  --no-activate          publish the release without switching current to it
  --no-optimize          do not write the optimized graph for this machine's CPU class
  --threads <n>          onnxruntime threads while checking the model (default 2)
`;

runMain(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      version: { type: 'string' },
      'models-dir': { type: 'string' },
      labels: { type: 'string' },
      config: { type: 'string' },
      'no-activate': { type: 'boolean' },
      'no-optimize': { type: 'boolean' },
      threads: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return;
  }
  const source = positionals[0];
  if (source === undefined || positionals.length > 1 || values.name === undefined || values.version === undefined) {
    throw new InstallError(`a model source, --name and --version are required.\n\n${USAGE}`);
  }
  const threads = values.threads === undefined ? 2 : Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) throw new InstallError('--threads must be a whole number from 1 to 64.');
  const modelsDir = modelsDirFrom(values['models-dir']);
  const { ort, versions } = loadNativeLibraries({ nodeModulesDir: undefined });
  process.stderr.write(`Installing model "${values.name}" version ${values.version} into ${modelsDir}\n`);
  const result = await installModel({
    source: userPath(source),
    modelsDir,
    name: values.name,
    version: values.version,
    ...(values.labels === undefined ? {} : { labelsFile: userPath(values.labels) }),
    ...(values.config === undefined ? {} : { configFile: userPath(values.config) }),
    activate: values['no-activate'] !== true,
    optimize: values['no-optimize'] !== true,
    ort,
    ortVersion: versions.onnxruntime,
    threads,
    progress: (file) => progressBar(process.stderr, `  ${file}`),
  });
  const total = Object.values(result.files).reduce((sum, file) => sum + file.bytes, 0);
  process.stdout.write(
    `Installed ${values.name} ${result.version} (${formatBytes(total)}) in ${result.releaseDir}\n` +
      (result.optimized === undefined ? '' : `  optimized graph for this CPU class: ${result.optimized}\n`) +
      (result.activated
        ? `  current -> releases/${result.version}${result.previous === undefined ? '' : ` (was ${result.previous})`}\n`
        : '  not activated (--no-activate): current is unchanged\n'),
  );
});
