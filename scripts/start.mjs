// `pnpm start`: the main job. Serves every declared function whose handler is built on
// http://127.0.0.1:3000 (flags: --port, --host, --efs-root, --log-format…; `pnpm start --help`),
// with the access points under <repo>/.efs, and Lambda's Invoke API on http://127.0.0.1:3001
// (--invoke-port; the only way to reach efs-provisioner, which has no routes). A function whose
// handler is not built yet is skipped with a line saying so; the runtime itself refuses a missing
// handler rather than half-serve it.
// `pnpm start --bundles [dir]` first builds the deployment packages (`pnpm bundle`) into dir
// (default infra/cdktf.out/bundles) and serves those zips, the code Lambda runs, instead of the
// tsc output.
// Before serving, the demo image-classification model is installed (once) into the EFS root, so
// `curl "http://127.0.0.1:3000/ml-inference?url=…"` answers out of the box.
import { execFileSync } from 'node:child_process';
import { existsSync, lchownSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { defineFunction, defineSystem, LOCAL_EFS_DIR, localAccessPointDir } from '@lambda-efs/function-spec';
import { accessPoint as messageAccessPoint, functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
// The local copy of the declaration lets the function fetch images from this machine (127.0.0.1),
// which the deployed function refuses.
import { accessPoint as mlAccessPoint, localFunctionDefinition as mlInference } from '@lambda-efs/ml-inference/function';
// The web page (GET / and its assets) for both, on the same API: http://127.0.0.1:3000/.
import { functionDefinition as web } from '@lambda-efs/web/function';

// The runtime is this repository's own package, built by the `turbo run build` before this script.
import { DEFAULT_BUNDLES_DIR, parseCliArgs, runLocalApi } from '../packages/local-runtime/dist/index.js';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const argv = process.argv.slice(2);
const help = argv.includes('--help') || argv.includes('-h');

/**
 * The provisioner as the local runtime serves it: its declaration (built by H3's package) plus,
 * when set in this process's environment, what it needs to reach a local S3 server. Credentials
 * and the region go to every environment through the runtime (`credentials`, `region`), as
 * Lambda sets its role's; these are the function's own variables.
 */
async function localProvisioner() {
  const declaration = join(repoRoot, 'apps/efs-provisioner/dist/function.js');
  if (!existsSync(declaration)) {
    console.log(`efs-provisioner: declaration not built yet — skipped (${declaration} does not exist)`);
    return undefined;
  }
  const { functionDefinition } = await import(pathToFileURL(declaration).href);
  const passed = {};
  for (const name of ['AWS_ENDPOINT_URL_S3', 'S3_FORCE_PATH_STYLE', 'ARTIFACT_BUCKET', 'ARTIFACT_PREFIX']) {
    const value = process.env[name];
    if (value !== undefined && value !== '') passed[name] = value;
  }
  return defineFunction({ ...functionDefinition, environment: { ...functionDefinition.environment, ...passed } });
}

/** Runs `pnpm bundle` (or, before that root script exists, infra's bundle CLI) into `outDir`. */
function buildBundles(outDir) {
  const scripts = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).scripts ?? {};
  const options = { stdio: 'inherit', cwd: repoRoot };
  if (typeof scripts.bundle === 'string') {
    // Through the pnpm that runs this script when there is one (npm_execpath), else the one on PATH.
    const pnpm = process.env.npm_execpath;
    if (pnpm !== undefined && /pnpm\.c?js$/.test(pnpm)) execFileSync(process.execPath, [pnpm, 'bundle', '--out', outDir], options);
    else execFileSync('pnpm', ['bundle', '--out', outDir], options);
    return;
  }
  const cli = join(repoRoot, 'infra/dist/bundle-cli.js');
  if (!existsSync(cli)) {
    console.error(`--bundles: infra's bundler is not built (${cli} does not exist): run \`pnpm build\` first.`);
    process.exit(1);
  }
  execFileSync(process.execPath, [cli, '--out', outDir], options);
}

const provisioner = await localProvisioner();
// Every declaration is checked, built or not, so a broken one fails the start.
const system = defineSystem([web, messageWall, mlInference, ...(provisioner === undefined ? [] : [provisioner])]);

let bundles;
try {
  const command = parseCliArgs(argv);
  if (command.kind === 'run' && command.bundles !== undefined) {
    bundles = resolve(repoRoot, command.bundles === true ? DEFAULT_BUNDLES_DIR : command.bundles);
  }
} catch {
  // runLocalApi reports the command-line error below.
}
if (bundles !== undefined && !help) buildBundles(bundles);

const built = system.functions.filter((fn) => {
  if (bundles !== undefined) {
    const zip = join(bundles, fn.name, 'handler.zip');
    if (existsSync(zip)) return true;
    console.log(`${fn.name}: no deployment package — skipped (${zip} does not exist)`);
    return false;
  }
  if (existsSync(fn.entry)) return true;
  console.log(`${fn.name}: handler not built yet — skipped (${fn.entry} does not exist)`);
  return false;
});
if (built.length === 0 && !help) {
  console.error('No function has a built handler: nothing to serve. Run `pnpm build` once the handlers exist.');
  process.exit(1);
}

const { values } = parseArgs({ args: argv, options: { 'efs-root': { type: 'string' } }, strict: false });
const efsRoot =
  typeof values['efs-root'] === 'string' ? values['efs-root'] : (process.env['LOCAL_RUNTIME_EFS_ROOT'] ?? `${repoRoot}${LOCAL_EFS_DIR}`);
if (!help && built.some((fn) => fn.name === mlInference.name)) {
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL('../apps/ml-inference/dist/cli/model-demo.js', import.meta.url)), '--efs-root', efsRoot],
    {
      stdio: 'inherit',
    },
  );
  // On EFS every file written through the access point belongs to its POSIX user; the installer
  // ran as this process's user. As root, hand what it wrote to that user, so the provisioner
  // (which runs as it) can lock, replace and prune the demo release as it would on AWS.
  if (process.getuid?.() === 0) giveToAccessPointUser(join(localAccessPointDir(efsRoot, mlAccessPoint), 'models'), mlAccessPoint.posixUser);
}

function giveToAccessPointUser(path, { uid, gid }) {
  let stats;
  try {
    stats = lstatSync(path);
  } catch {
    return;
  }
  if (stats.uid === 0) lchownSync(path, uid, gid);
  if (stats.isDirectory()) for (const name of readdirSync(path)) giveToAccessPointUser(join(path, name), { uid, gid });
}

const { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey, AWS_SESSION_TOKEN: sessionToken } = process.env;
await runLocalApi({
  argv,
  functions: built,
  accessPoints: [messageAccessPoint, mlAccessPoint],
  defaults: { efsRoot: `${repoRoot}${LOCAL_EFS_DIR}` },
  bundlesDir: join(repoRoot, DEFAULT_BUNDLES_DIR),
  // The functions get this process's AWS credentials, as Lambda gives them its role's (the
  // provisioner needs them for S3, or for a local S3 server at AWS_ENDPOINT_URL_S3).
  ...(accessKeyId && secretAccessKey ? { credentials: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) } } : {}),
  usage: 'Usage: pnpm start [options]',
});
