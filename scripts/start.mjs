// `pnpm start`: the main job. Serves every declared function whose handler is built on
// http://127.0.0.1:3000 (flags: --port, --host, --efs-root, --log-format…; `pnpm start --help`),
// with the access points under <repo>/.efs. A function whose handler is not built yet is skipped
// with a line saying so; the runtime itself refuses a missing handler rather than half-serve it.
// Before serving, the demo image-classification model is installed (once) into the EFS root, so
// `curl "http://127.0.0.1:3000/ml-inference?url=…"` answers out of the box.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { defineSystem, LOCAL_EFS_DIR } from '@lambda-efs/function-spec';
import { accessPoint as messageAccessPoint, functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
// The local copy of the declaration lets the function fetch images from this machine (127.0.0.1),
// which the deployed function refuses.
import { accessPoint as mlAccessPoint, localFunctionDefinition as mlInference } from '@lambda-efs/ml-inference/function';

// The runtime is this repository's own package, built by the `turbo run build` before this script.
import { runLocalApi } from '../packages/local-runtime/dist/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

// Every declaration is checked, built or not, so a broken one fails the start.
const system = defineSystem([messageWall, mlInference]);
const built = system.functions.filter((fn) => {
  if (existsSync(fn.entry)) return true;
  console.log(`${fn.name}: handler not built yet — skipped (${fn.entry} does not exist)`);
  return false;
});
if (built.length === 0 && !process.argv.includes('--help')) {
  console.error('No function has a built handler: nothing to serve. Run `pnpm build` once the handlers exist.');
  process.exit(1);
}

const { values } = parseArgs({ args: process.argv.slice(2), options: { 'efs-root': { type: 'string' } }, strict: false });
const efsRoot = typeof values['efs-root'] === 'string' ? values['efs-root'] : process.env['LOCAL_RUNTIME_EFS_ROOT'] ?? `${repoRoot}${LOCAL_EFS_DIR}`;
if (!process.argv.includes('--help') && !process.argv.includes('-h') && built.some((fn) => fn.name === mlInference.name)) {
  execFileSync(process.execPath, [fileURLToPath(new URL('../apps/ml-inference/dist/cli/model-demo.js', import.meta.url)), '--efs-root', efsRoot], {
    stdio: 'inherit',
  });
}

await runLocalApi({
  argv: process.argv.slice(2),
  functions: built,
  accessPoints: [messageAccessPoint, mlAccessPoint],
  defaults: { efsRoot: `${repoRoot}${LOCAL_EFS_DIR}` },
  usage: 'Usage: pnpm start [options]',
});
