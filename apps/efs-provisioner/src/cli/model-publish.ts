#!/usr/bin/env node
// pnpm model:publish <dir|model.onnx> --name <name> --version <version> --stack <stack>
import { parseArgs } from 'node:util';

import { progressBar } from '@lambda-efs/ml-inference/progress';

import { PublishError } from '../errors.js';
import { describeResult } from './invoke.js';
import { publishModel } from './publish.js';
import { clients, DEPLOYMENT_FLAGS, DEPLOYMENT_HELP, resolveDeployment, runMain, userPath } from './shared.js';

const HELP = `Usage: pnpm model:publish <dir|model.onnx> --name <name> --version <version> --stack <stack> [options]

Builds a model release (model.onnx, labels.txt, model.json, release.json; checked with onnxruntime
as model:install does), uploads it to the stack's artifact bucket and has the efs-provisioner
function install it on EFS and make it current. ml-inference serves it from its next request.

  --name <name>              the model's name (ml-inference's MODEL_NAME; the stack's is "demo")
  --version <version>        the release's version; versions are immutable
  --labels <file>            labels.txt (default: beside the model)
  --config <file>            model.json (default: beside the model, else the post's preprocessing)
  --no-activate              install without making it current
  --keep <n>                 releases to keep on EFS (default 3; the active one is always kept)

${DEPLOYMENT_HELP}`;

runMain(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      ...DEPLOYMENT_FLAGS,
      name: { type: 'string' },
      version: { type: 'string' },
      labels: { type: 'string' },
      config: { type: 'string' },
      'no-activate': { type: 'boolean' },
      keep: { type: 'string' },
    },
  });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const [source, ...extra] = positionals;
  if (source === undefined || extra.length > 0)
    throw new PublishError('Pass one model: a directory with model.onnx and labels.txt, or an .onnx file. See --help.');
  if (values.name === undefined)
    throw new PublishError('--name is required: the model name ml-inference serves (MODEL_NAME, "demo" in the stack).');
  if (values.version === undefined) throw new PublishError('--version is required, e.g. --version 2.0.0.');
  const keep = values.keep === undefined ? undefined : Number(values.keep);
  if (keep !== undefined && (!Number.isInteger(keep) || keep < 1))
    throw new PublishError(`--keep must be a positive integer, not "${values.keep}".`);
  const deployment = await resolveDeployment(values, true);
  const { s3, lambda } = clients(values);
  const published = await publishModel({
    source: userPath(source),
    name: values.name,
    version: values.version,
    ...(values.labels === undefined ? {} : { labelsFile: userPath(values.labels) }),
    ...(values.config === undefined ? {} : { configFile: userPath(values.config) }),
    activate: values['no-activate'] !== true,
    ...(keep === undefined ? {} : { keep }),
    bucket: deployment.bucket,
    functionName: deployment.functionName,
    s3,
    lambda,
    progress: progressBar(process.stderr, 'upload'),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(describeResult(published.result));
});
