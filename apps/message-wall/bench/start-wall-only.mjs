// `pnpm start` serving the message wall alone: the same runLocalApi front, command line and
// defaults as the root scripts/start.mjs, without the other functions (nor ml-inference's model
// install), for side-by-side.mjs --wall-only when another package of the repository is broken,
// and --compare-runtime (another build of the local runtime as a third peer).
import { fileURLToPath } from 'node:url';

import { LOCAL_EFS_DIR } from '@lambda-efs/function-spec';
import * as localRuntime from '@lambda-efs/local-runtime';

import { accessPoint, functionDefinition } from '../dist/function.js';

// BENCH_LOCAL_RUNTIME: another build of the runtime's dist/index.js, to compare two versions in one run.
const override = process.env['BENCH_LOCAL_RUNTIME'];
const { runLocalApi } = override === undefined || override === '' ? localRuntime : await import(override);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
await runLocalApi({
  argv: process.argv.slice(2),
  functions: [functionDefinition],
  accessPoints: [accessPoint],
  defaults: { efsRoot: `${repoRoot}${LOCAL_EFS_DIR}` },
  usage: 'Usage: node apps/message-wall/bench/start-wall-only.mjs [options]',
});
