// Cold start of ml-inference's real deployment package, two ways (not a test):
//   package      onnxruntime-node and sharp in the zip's node_modules/, next to handler.mjs
//                (nativeModules.from 'package', the default);
//   file-system  the zip without them, loaded from a NODE_MODULES_DIR directory built for the
//                platform by infra's platformNodeModules (nativeModules.from 'file-system': the
//                post's way; here a local directory stands in for EFS).
// Both packages come from infra's bundler (infra/dist: run `pnpm build` first) and are extracted
// into a temporary directory outside the workspace, so nothing resolves from the workspace's
// node_modules. Each run is a fresh `node --enable-source-maps` process answering one POST of a
// 640×480 JPEG with the demo model; measured in this process from spawn to the answer (process
// start → first answer), round-robin between the two ways. Run 0 of each way follows a
// page-cache drop of its native libraries (sync + dd iflag=nocache: best effort, may not evict
// everything): the "very first" cold start. Prints Markdown.
//
//   node apps/ml-inference/bench/native-libraries.mjs [--runs 15] [--work <dir>]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const INFRA = fileURLToPath(new URL('../../../infra/dist/', import.meta.url));
const INVOKE = fileURLToPath(new URL('./invoke-bundle.mjs', import.meta.url));
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, work: { type: 'string' } } });
const runs = Number(values.runs);
const work = values.work ?? mkdtempSync(join(os.tmpdir(), 'ml-native-bench-'));
const log = (text) => process.stderr.write(`${text}\n`);

const { bundleFunction, owningPackage } = await import(join(INFRA, 'bundling', 'bundle.js'));
const { platformNodeModules } = await import(join(INFRA, 'bundling', 'native-modules.js'));
const { readZip } = await import(join(INFRA, 'bundling', 'zip.js'));
const { defineFunction } = await import('@lambda-efs/function-spec');
const { functionDefinition, accessPoint } = await import('../dist/function.js');

function extract(zipPath, dir) {
  let bytes = 0;
  for (const entry of readZip(readFileSync(zipPath))) {
    mkdirSync(dirname(join(dir, entry.name)), { recursive: true });
    writeFileSync(join(dir, entry.name), entry.data);
    bytes += entry.data.length;
  }
  return bytes;
}

// 1. The two packages, and the libraries directory.
log('bundling…');
const inPackage = await bundleFunction(functionDefinition, { outDir: join(work, 'bundles-package') });
const onFileSystem = defineFunction({
  ...functionDefinition,
  fileSystem: { accessPoint, mountPath: '/mnt/inference', readOnly: true },
  nativeModules: { ...functionDefinition.nativeModules, from: 'file-system' },
});
const withoutNatives = await bundleFunction(onFileSystem, { outDir: join(work, 'bundles-file-system') });
const libraries = platformNodeModules(onFileSystem.nativeModules.packages, {
  architecture: onFileSystem.architecture,
  resolveFrom: owningPackage(onFileSystem.entry).directory,
  outDir: join(work, 'efs', 'ml', 'libraries', 'linux-x64'),
});
const ways = [
  { name: 'package', task: join(work, 'task-package'), zip: inPackage, env: {}, natives: join(work, 'task-package', 'node_modules') },
  {
    name: 'file-system',
    task: join(work, 'task-file-system'),
    zip: withoutNatives,
    env: { NODE_MODULES_DIR: libraries.nodeModulesDir },
    natives: libraries.nodeModulesDir,
  },
];
for (const way of ways) way.extracted = extract(way.zip.zipPath, way.task);

// 2. The demo model and a JPEG, with the package's own tools.
const efsRoot = join(work, 'efs');
spawnSync(process.execPath, [join(PACKAGE, 'dist', 'cli', 'model-demo.js'), '--efs-root', efsRoot], { stdio: 'ignore' });
const sharp = createRequire(import.meta.url)('sharp');
const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 200, g: 30, b: 30 } } })
  .jpeg()
  .toBuffer();
const event = JSON.parse(readFileSync(join(PACKAGE, 'tests', 'events', 'post.json'), 'utf8'));
Object.assign(event, { body: jpeg.toString('base64'), isBase64Encoded: true });
event.headers['content-type'] = 'image/jpeg';
const eventFile = join(work, 'event.json');
writeFileSync(eventFile, JSON.stringify(event));

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSyncSafe(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
function readdirSyncSafe(dir) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}
function dropPageCache(dir) {
  spawnSync('sync');
  for (const path of filesUnder(dir)) spawnSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
}

function coldStart(way) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--enable-source-maps', INVOKE, way.task, eventFile], {
      cwd: way.task,
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_FUNCTION_NAME: 'ml-inference',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008',
        MODEL_DIR: join(efsRoot, 'ml', 'models'),
        MODEL_NAME: 'demo',
        ...way.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let answeredMs;
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (answeredMs === undefined && stdout.includes('RESULT ')) answeredMs = Number(process.hrtime.bigint() - started) / 1e6;
    });
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', () => {
      const lines = stdout.split('\n');
      const result = lines.find((line) => line.startsWith('RESULT '));
      if (result === undefined) return reject(new Error(`no answer from ${way.name}: ${stdout}\n${stderr}`));
      const { statusCode } = JSON.parse(result.slice(7));
      if (statusCode !== 200) return reject(new Error(`${way.name} answered ${statusCode}: ${stdout}`));
      const loaded = lines
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line))
        .find((line) => line.message === 'model loaded');
      resolve({ ms: answeredMs, librariesMs: loaded?.librariesMs, from: loaded?.librariesFrom });
    });
  });
}

// 3. Cold starts, round-robin.
const results = new Map(ways.map((way) => [way.name, { first: undefined, rest: [] }]));
for (const way of ways) {
  dropPageCache(way.natives);
  results.get(way.name).first = await coldStart(way);
}
for (let run = 1; run <= runs; run++) {
  for (const way of ways) results.get(way.name).rest.push(await coldStart(way));
  log(`run ${run}/${runs}`);
}

const quantile = (values, q) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1) + 0.5))];
};
const ms = (value) => (value === undefined ? '–' : `${Math.round(value)} ms`);
const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
const load = os
  .loadavg()
  .map((value) => value.toFixed(1))
  .join(' / ');
console.log(
  `Node.js ${process.version}, ${os.cpus().length} × ${cpu}, ${os.platform()} ${os.release()}; load average at the end ${load} (1/5/15 min); ${runs} runs per way after the first.\n`,
);
console.log(
  '| natives from | zip | extracted | first cold start (after page-cache drop) | cold start p50 | p90 | min | max | native load p50 (in init) |',
);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const way of ways) {
  const { first, rest } = results.get(way.name);
  const times = rest.map((r) => r.ms);
  const where = way.name === 'package' ? 'package (`node_modules/` in the zip)' : `file system (NODE_MODULES_DIR, ${mb(libraries.bytes)})`;
  console.log(
    `| ${where} | ${mb(way.zip.bytes)} | ${mb(way.extracted)} | ${ms(first.ms)} | ${ms(quantile(times, 0.5))} | ${ms(quantile(times, 0.9))} | ${ms(Math.min(...times))} | ${ms(Math.max(...times))} | ${ms(
      quantile(
        rest.map((r) => r.librariesMs),
        0.5,
      ),
    )} |`,
  );
}
if (values.work === undefined) rmSync(work, { recursive: true, force: true });
