#!/usr/bin/env node
// pnpm model:rollback [--to <version>] [--name demo] --stack <stack>
import { parseArgs } from 'node:util';

import { describeResult } from './invoke.js';
import { rollbackModel } from './publish.js';
import { clients, DEPLOYMENT_FLAGS, DEPLOYMENT_HELP, resolveDeployment, runMain } from './shared.js';

const HELP = `Usage: pnpm model:rollback [--to <version>] [--name <name>] --stack <stack> [options]

Makes an installed release of the model current again, through the efs-provisioner function.
ml-inference serves it from its next request.

  --to <version>             the version to activate (default: the release active before the current one)
  --name <name>              the model (default: demo)

${DEPLOYMENT_HELP}`;

runMain(async () => {
  const { values, positionals } = parseArgs({ options: { ...DEPLOYMENT_FLAGS, to: { type: 'string' }, name: { type: 'string' } } });
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length > 0) throw new Error('model:rollback takes no positional arguments: use --to <version>.');
  const deployment = await resolveDeployment(values, false);
  const { lambda } = clients(values);
  const result = await rollbackModel({
    name: values.name ?? 'demo',
    ...(values.to === undefined ? {} : { to: values.to }),
    functionName: deployment.functionName,
    lambda,
  });
  process.stdout.write(describeResult(result));
});
