// Benchmark of the ml-inference handler with the post's model shape: a ResNet-50 (200 classes,
// 448×448, random weights) on a 1024×768 JPEG, 2 onnxruntime threads (a 3008 MB function).
// Runs against the built package (dist/): build first. Not part of the tests.
//
//   node bench/run.mjs [--cold-runs 5] [--warm-runs 200] [--variants float32,float16,int8,int8-qdq]
//                      [--work <dir>] [--json <file>] [--quiet-idle 85] [--quiet-wait 240] [--handler bundle|dist]
//
// The machine may be shared: before each measured block the script waits (up to --quiet-wait s)
// until the CPUs were --quiet-idle % idle over 2 s, and reports how idle they were.
//
// 1. Models: generates the ResNet-50-shaped model once per variant (float32 ≈ 96 MB,
//    float16 ≈ 48 MB, int8 ≈ 24 MB of weights, all inferring in float32; int8-qdq ≈ 26 MB,
//    statically quantized, inferring in int8) into <work>/src-<variant> (default apps/ml-inference/.bench,
//    gitignored), and installs each twice with the real installer: with the optimized graph for
//    this CPU class ("cached") and without it ("no cache", what a CPU class without an
//    optimized/ entry gets).
// 2. Cold starts: for each installed model, fresh processes (bench/cold-start.mjs) answer one
//    POST of the JPEG; measured from spawn to answer. The first run of each model follows a
//    page-cache drop of the model's files and the native libraries (sync + dd iflag=nocache):
//    the "very first" cold start, reading from disk. The others find them in the page cache.
//    Bytes read from the model directory come from the function's own "model loaded" log.
//    The handler is what Lambda runs (--handler bundle, the default): the deployment package from
//    infra's bundler (infra/dist: `pnpm build` first), natives in its node_modules/, extracted into
//    a temporary directory and run with --enable-source-maps (the functions' NODE_OPTIONS);
//    --handler dist imports the package's dist/handler.js instead (one module per source file).
//    After the first, cold starts go round-robin across the models.
// 3. Warm: one handler per model in this process answers `warm-runs` POSTs of the JPEG (after 20
//    unmeasured), then the same number of GETs of it from a server on 127.0.0.1, in blocks of 20
//    round-robin across the models; p50/p90/p99 of the whole handler call: decode, preprocess,
//    infer, answer.
// Prints Markdown; --json also writes the raw numbers.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const COLD = fileURLToPath(new URL('./cold-start.mjs', import.meta.url));
const NAIVE = fileURLToPath(new URL('./naive-cold-start.mjs', import.meta.url));
const require = createRequire(import.meta.url);

const { values } = parseArgs({
  options: {
    'cold-runs': { type: 'string', default: '5' },
    'warm-runs': { type: 'string', default: '200' },
    variants: { type: 'string', default: 'float32,float16,int8,int8-qdq' },
    work: { type: 'string', default: join(PACKAGE, '.bench') },
    json: { type: 'string' },
    'quiet-idle': { type: 'string', default: '85' },
    'quiet-wait': { type: 'string', default: '240' },
    handler: { type: 'string', default: 'bundle' },
  },
});
const coldRuns = Number(values['cold-runs']);
const warmRuns = Number(values['warm-runs']);
const variants = values.variants.split(',');
const work = values.work;
mkdirSync(work, { recursive: true });
if (values.handler !== 'bundle' && values.handler !== 'dist') throw new Error(`--handler is bundle or dist, not ${values.handler}`);

const { writeResNetModel } = await import('@lambda-efs/onnx-models');
const { installModel } = await import('../dist/install/install.js');
const { loadNativeLibraries } = await import('../dist/core/native.js');
// dist/handler.js builds its default handler from the environment when imported.
process.env.MODEL_DIR ??= join(work, 'models');
process.env.MODEL_NAME ??= 'none';
const { createHandler } = await import('../dist/handler.js');
const { loadConfig } = await import('../dist/config.js');
const { sharp, ort, versions } = loadNativeLibraries({ nodeModulesDir: undefined });

const log = (text) => process.stderr.write(`${text}\n`);

// This machine is shared: before each measured block, wait (up to --quiet-wait seconds) until the
// CPUs were at least --quiet-idle % idle over two seconds, and record how idle they were.
function cpuTimes() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  const idle = fields[3] + fields[4];
  return { idle, total: fields.reduce((a, b) => a + b, 0) };
}
async function idlePercent(ms) {
  const a = cpuTimes();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const b = cpuTimes();
  return (100 * (b.idle - a.idle)) / Math.max(1, b.total - a.total);
}
async function waitForQuiet(what) {
  const want = Number(values['quiet-idle']);
  const deadline = Date.now() + Number(values['quiet-wait']) * 1000;
  let idle = await idlePercent(2000);
  while (idle < want && Date.now() < deadline) {
    log(`  waiting for a quiet machine before ${what} (idle ${idle.toFixed(0)}%)…`);
    idle = await idlePercent(5000);
  }
  return Math.round(idle);
}
const mb = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;
const ms = (value) => `${Math.round(value)} ms`;
function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}
function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    min: sorted[0],
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

// --- The image: a photo-like 1024×768 JPEG (gradients, shapes, texture), quality 90.
const imagePath = join(work, 'bird.jpg');
if (!existsSync(imagePath)) {
  const width = 1024;
  const height = 768;
  const pixels = Buffer.alloc(width * height * 3);
  let seed = 2020;
  const noise = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff - 0.5;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const sky = y < height * 0.55;
      const dx = x - 560;
      const dy = y - 380;
      const bird = (dx * dx) / (170 * 170) + (dy * dy) / (110 * 110) < 1;
      const r = bird ? 40 + 30 * Math.sin(x / 9) : sky ? 120 + (y / height) * 60 : 70 + 30 * Math.sin(x / 23 + y / 31);
      const g = bird ? 40 + 20 * Math.cos(y / 7) : sky ? 160 + (y / height) * 50 : 110 + 25 * Math.cos(x / 17);
      const b = bird ? 50 : sky ? 220 - (y / height) * 40 : 60 + 20 * Math.sin(y / 13);
      pixels[i] = Math.max(0, Math.min(255, r + noise() * 24));
      pixels[i + 1] = Math.max(0, Math.min(255, g + noise() * 24));
      pixels[i + 2] = Math.max(0, Math.min(255, b + noise() * 24));
    }
  }
  writeFileSync(
    imagePath,
    await sharp(pixels, { raw: { width, height, channels: 3 } })
      .jpeg({ quality: 90 })
      .toBuffer(),
  );
}
const jpeg = readFileSync(imagePath);
const eventFile = join(work, 'event.json');
const postEvent = (bytes) => ({
  version: '2.0',
  routeKey: 'POST /ml-inference',
  rawPath: '/ml-inference',
  rawQueryString: '',
  headers: { 'content-type': 'image/jpeg' },
  requestContext: { requestId: 'bench', http: { method: 'POST', path: '/ml-inference' } },
  body: bytes.toString('base64'),
  isBase64Encoded: true,
});
writeFileSync(eventFile, JSON.stringify(postEvent(jpeg)));

// --- Models.
const modelsDir = join(work, 'models');
const models = [];
for (const storage of variants) {
  const source = join(work, `src-${storage}`);
  if (!existsSync(join(source, 'model.onnx'))) {
    log(`generating the ResNet-50-shaped model (${storage})…`);
    await writeResNetModel(source, storage, ort);
  }
  for (const optimize of [true, false]) {
    const name = `resnet50-${storage}${optimize ? '' : '-nocache'}`;
    if (!existsSync(join(modelsDir, name, 'current'))) {
      log(`installing ${name}…`);
      await installModel({ source, modelsDir, name, version: '1', ort, ortVersion: versions.onnxruntime, optimize, threads: 2 });
    }
    models.push({ name, storage, optimize, modelBytes: statSync(join(source, 'model.onnx')).size });
  }
  // The naive peer of this storage: the same model.onnx, loaded by a script with default options.
  models.push({
    name: `naive-${storage}`,
    storage,
    naive: true,
    modelPath: join(source, 'model.onnx'),
    modelBytes: statSync(join(source, 'model.onnx')).size,
  });
}
const functionModels = models.filter((m) => !m.naive);

// --- Cold starts.
function nativeLibraryFiles() {
  const files = [];
  for (const name of ['onnxruntime-node', 'sharp', '@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64']) {
    let dir;
    try {
      dir = dirname(realpathSync(require.resolve(`${name}/package.json`)));
    } catch {
      continue;
    }
    const walk = (d) => {
      for (const entry of readdirSync(d, { withFileTypes: true })) {
        const path = join(d, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (
          /\.(so(\.\d+)*|node)$/.test(entry.name) &&
          (!path.includes('/bin/napi-v') || path.includes(`/${process.platform}/${process.arch}/`))
        )
          files.push(path);
      }
    };
    walk(dir);
  }
  return files;
}
function nativeFilesUnder(dir) {
  return filesUnder(dir).filter((path) => /\.(so(\.\d+)*|node)$/.test(path));
}
function dropPageCache(paths) {
  spawnSync('sync');
  for (const path of paths) spawnSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);
}
function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}
function coldStart(model, extraEnv = {}) {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const args = model.naive
      ? [NAIVE, model.modelPath]
      : [...handlerNodeArgs, COLD, eventFile, ...(handlerModule === undefined ? [] : [handlerModule])];
    const child = spawn(process.execPath, args, {
      cwd: PACKAGE,
      env: {
        PATH: process.env.PATH,
        AWS_LAMBDA_FUNCTION_NAME: 'ml-inference',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008',
        MODEL_DIR: modelsDir,
        MODEL_NAME: model.name,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let answeredAt;
    child.stdout.on('data', (chunk) => {
      out += chunk;
      if (answeredAt === undefined && out.includes('\nRESULT ')) answeredAt = performance.now();
      if (answeredAt === undefined && out.startsWith('RESULT ')) answeredAt = performance.now();
    });
    child.on('error', reject);
    child.on('close', () => {
      const lines = out.split('\n');
      const result = lines.find((l) => l.startsWith('RESULT '));
      if (result === undefined || answeredAt === undefined)
        return reject(new Error(`no answer from the cold start of ${model.name}:\n${out}`));
      const parsed = JSON.parse(result.slice(7));
      if (model.naive) {
        const { steps } = parsed;
        return resolve({
          totalMs: answeredAt - startedAt,
          bootMs: parsed.bootMs,
          librariesMs: steps.libraries.ms,
          sessionMs: steps.session.ms,
          invokeMs: steps.inference.ms,
          loadTouchedMb: steps.libraries.touchedMb + steps.session.touchedMb,
          sessionTouchedMb: steps.session.touchedMb,
          invokeTouchedMb: steps.inference.touchedMb,
          touchedMb: parsed.touchedMb,
          peakRssMb: parsed.peakRssMb,
          bytesRead: model.modelBytes,
        });
      }
      const loaded = lines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l))
        .find((l) => l.message === 'model loaded');
      if (parsed.statusCode !== 200) return reject(new Error(`cold start answered ${parsed.statusCode}: ${parsed.body}`));
      resolve({
        totalMs: answeredAt - startedAt,
        bootMs: parsed.bootMs,
        initMs: parsed.initMs,
        invokeMs: parsed.invokeMs,
        bytesRead: loaded?.bytesRead,
        loadMs: loaded?.loadMs,
        librariesMs: loaded?.librariesMs,
        readWaitMs: loaded?.readWaitMs,
        sessionMs: loaded?.sessionMs,
        optimized: loaded?.optimized,
        cacheWritten: loaded?.cacheWritten,
        loadTouchedMb: loaded?.memoryTouchedMb?.load,
        sessionTouchedMb: loaded?.memoryTouchedMb?.session,
        invokeTouchedMb: parsed.invokeTouchedMb,
        touchedMb: parsed.touchedMb,
        peakRssMb: parsed.peakRssMb,
        label: JSON.parse(parsed.body).bird_class,
      });
    });
  });
}

// What the cold starts import: the deployment package, extracted outside the workspace (so that
// nothing resolves from the workspace's node_modules), or dist/handler.js.
let handlerModule;
let handlerNodeArgs = [];
let taskDir;
if (values.handler === 'bundle') {
  const INFRA = fileURLToPath(new URL('../../../infra/dist/', import.meta.url));
  const { bundleFunction } = await import(join(INFRA, 'bundling', 'bundle.js'));
  const { readZip } = await import(join(INFRA, 'bundling', 'zip.js'));
  const { functionDefinition } = await import('../dist/function.js');
  log('bundling the deployment package…');
  taskDir = mkdtempSync(join(os.tmpdir(), 'ml-bench-task-'));
  const bundle = await bundleFunction(functionDefinition, { outDir: join(taskDir, '..', `${basename(taskDir)}-zip`) });
  for (const entry of readZip(readFileSync(bundle.zipPath))) {
    mkdirSync(dirname(join(taskDir, entry.name)), { recursive: true });
    writeFileSync(join(taskDir, entry.name), entry.data);
  }
  rmSync(join(taskDir, '..', `${basename(taskDir)}-zip`), { recursive: true, force: true });
  handlerModule = join(taskDir, 'handler.mjs');
  handlerNodeArgs = ['--enable-source-maps'];
  process.on('exit', () => rmSync(taskDir, { recursive: true, force: true }));
}
const nativeFiles = [...nativeLibraryFiles(), ...(taskDir === undefined ? [] : nativeFilesUnder(join(taskDir, 'node_modules')))];
// The very first cold start of each model (page cache dropped), then the others round-robin across
// the models, so that every model sees the same share of the machine's ups and downs.
const cold = [];
for (const model of models) {
  const idleBefore = await waitForQuiet(`the first cold start of ${model.name}`);
  // A model installed without the cache starts without it: its first cold start writes it.
  if (!model.naive && !model.optimize) rmSync(join(modelsDir, model.name, 'releases', '1', 'optimized'), { recursive: true, force: true });
  const modelFiles = model.naive ? [model.modelPath] : filesUnder(join(modelsDir, model.name));
  dropPageCache([...modelFiles, ...nativeFiles]);
  cold.push({ model, first: await coldStart(model), rest: [], idleBefore });
}
for (let i = 0; i < coldRuns; i++) {
  await waitForQuiet(`round ${i + 1} of the cold starts`);
  for (const entry of cold) entry.rest.push(await coldStart(entry.model));
}
for (const entry of cold) {
  entry.summary = summary(entry.rest.map((r) => r.totalMs));
  log(`cold ${entry.model.name}: first ${ms(entry.first.totalMs)}, then p50 ${ms(entry.summary.p50)}`);
}

// Provisioned concurrency: init loads the model and runs one blank image ahead of traffic; the
// first request is then measured on its own.
const provisioned = [];
for (const model of functionModels.filter((m) => m.optimize && m.storage === 'float32')) {
  await waitForQuiet('the provisioned cold starts');
  const runs = [];
  for (let i = 0; i < Math.max(3, coldRuns); i++)
    runs.push(await coldStart(model, { AWS_LAMBDA_INITIALIZATION_TYPE: 'provisioned-concurrency' }));
  provisioned.push({ model, init: summary(runs.map((r) => r.bootMs + r.initMs)), firstRequest: summary(runs.map((r) => r.invokeMs)) });
}

// --- Warm, in this process: the whole handler.
const server = createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': String(jpeg.length) }).end(jpeg);
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${server.address().port}/bird.jpg`;
// One handler per model in this process, measured in blocks of 20 requests round-robin across the
// models (again, so that they share the machine's ups and downs alike).
const { preprocessImage } = await import('../dist/core/preprocess.js');
const BLOCK = 20;
const warm = [];
for (const model of functionModels.filter((m) => m.optimize)) {
  const handler = createHandler({
    config: loadConfig({
      MODEL_DIR: modelsDir,
      MODEL_NAME: model.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '3008',
      IMAGE_FETCH_ALLOW_PRIVATE_NETWORKS: 'true',
    }),
    log: () => {},
  });
  await handler.prepare();
  warm.push({ model, handler, samples: { post: [], get: [], preprocess: [], infer: [] } });
}
const post = postEvent(jpeg);
const get = {
  ...post,
  routeKey: 'GET /ml-inference',
  requestContext: { requestId: 'bench', http: { method: 'GET', path: '/ml-inference' } },
  queryStringParameters: { url },
  body: undefined,
  isBase64Encoded: false,
};
for (const entry of warm) for (let i = 0; i < 20; i++) await entry.handler(post);
const warmIdle = await waitForQuiet('the warm requests');
for (const [kind, event] of [
  ['post', post],
  ['get', get],
]) {
  for (let block = 0; block < Math.ceil(warmRuns / BLOCK); block++) {
    for (const entry of warm) {
      for (let i = 0; i < BLOCK; i++) {
        const startedAt = performance.now();
        const result = await entry.handler(event);
        entry.samples[kind].push(performance.now() - startedAt);
        if (result.statusCode !== 200) throw new Error(`warm request answered ${result.statusCode}: ${result.body}`);
      }
    }
  }
}
// Where a warm request's time goes: decode + preprocess vs. inference alone.
for (let block = 0; block < 3; block++) {
  for (const entry of warm) {
    const active = entry.handler.store.active;
    for (let i = 0; i < BLOCK; i++) {
      let t = performance.now();
      const input = await preprocessImage(sharp, jpeg, 'jpeg', active.config, { maxPixels: 40_000_000 });
      entry.samples.preprocess.push(performance.now() - t);
      t = performance.now();
      await active.session.run(input.data, input.dims);
      entry.samples.infer.push(performance.now() - t);
    }
  }
}
for (const entry of warm) {
  Object.assign(entry, {
    post: summary(entry.samples.post),
    get: summary(entry.samples.get),
    preprocess: summary(entry.samples.preprocess),
    infer: summary(entry.samples.infer),
    idleBefore: warmIdle,
  });
  log(`warm ${entry.model.name}: POST p50 ${ms(entry.post.p50)} p99 ${ms(entry.post.p99)}`);
  await entry.handler.close();
  delete entry.handler;
}
server.close();

// --- Agreement of the other variants with float32 (same random weights).
const agreement = [];
if (variants.includes('float32')) {
  const images = [jpeg];
  for (let i = 0; i < 4; i++) {
    images.push(
      await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 40 * i, g: 200 - 30 * i, b: 90 } } })
        .composite([{ input: jpeg, left: 50 * i, top: 30 * i, blend: 'multiply' }])
        .jpeg()
        .toBuffer(),
    );
  }
  const answers = {};
  for (const storage of variants) {
    const handler = createHandler({
      config: loadConfig({ MODEL_DIR: modelsDir, MODEL_NAME: `resnet50-${storage}`, MODEL_THREADS: '2' }),
      log: () => {},
    });
    answers[storage] = [];
    for (const image of images)
      answers[storage].push(JSON.parse((await handler({ ...postEvent(image), queryStringParameters: { top: '20' } })).body));
    await handler.close();
  }
  for (const storage of variants.filter((s) => s !== 'float32')) {
    let top1 = 0;
    let worst = 0;
    answers[storage].forEach((answer, i) => {
      const reference = answers.float32[i];
      if (answer.bird_class === reference.bird_class) top1 += 1;
      const p = new Map(reference.predictions.map((x) => [x.label, x.probability]));
      for (const x of answer.predictions) if (p.has(x.label)) worst = Math.max(worst, Math.abs(x.probability - p.get(x.label)));
    });
    agreement.push({ storage, images: images.length, top1, worstProbabilityDifference: worst });
  }
}

// --- Report.
const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.+)/)?.[1] ?? os.cpus()[0]?.model;
const lines = [];
lines.push(
  `Machine: ${os.cpus().length} cores (${cpu}), ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}; Node ${process.version}; onnxruntime-node ${versions.onnxruntime}, sharp ${versions.sharp}; load average at the end ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}.`,
);
lines.push('');
lines.push(
  `Cold start (fresh process → first answer: Node boot, imports, init with model load, one request) of ${values.handler === 'bundle' ? "the deployment package (infra's bundler: handler.mjs + natives in node_modules/, run with --enable-source-maps)" : 'dist/handler.js (unbundled: one module per source file)'}:`,
);
lines.push('');
lines.push(
  '| model | optimized graph | bytes read | very first (page cache dropped) | then: p50 | min–max | boot | libraries | model read wait | session | first request | fresh memory: load | first request | whole process | peak RSS | CPU idle before |',
);
lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
const mbCell = (value) => (value === undefined ? '—' : `${Math.round(value)} MB`);
for (const c of cold) {
  const median = (key) => summary(c.rest.map((r) => r[key] ?? 0)).p50;
  const p50 = (key) => ms(median(key));
  const graph = c.model.naive
    ? 'naive: model.onnx by path, default options'
    : c.first.optimized === 'hit'
      ? 'cached'
      : `none: optimized at load${c.first.cacheWritten === 'published' ? ' (then cached: the first run wrote it)' : ''}`;
  lines.push(
    `| ${c.model.name} (model.onnx ${mb(c.model.modelBytes)}) | ${graph} | ${mb(c.rest[0]?.bytesRead ?? 0)} | ${ms(c.first.totalMs)} | **${ms(c.summary.p50)}** | ${ms(c.summary.min)}–${ms(c.summary.max)} | ${p50('bootMs')} | ${p50('librariesMs')} | ${c.model.naive ? '—' : p50('readWaitMs')} | ${p50('sessionMs')} | ${p50('invokeMs')} | ${mbCell(median('loadTouchedMb'))} | ${mbCell(median('invokeTouchedMb'))} | ${mbCell(median('touchedMb'))} | ${mbCell(median('peakRssMb'))} | ${c.idleBefore}% |`,
  );
}
lines.push('');
lines.push(
  '(boot: process start to the handler import; libraries: loading onnxruntime-node and sharp (naive: onnxruntime-node only), while the model file is read; model read wait: waiting for the rest of the read after that; session: creating and checking the onnxruntime session; first request: decode, preprocess, first inference, answer (naive: the first inference alone). Fresh memory: minor page faults × 4 KiB during the load (libraries + read + session), during the first request, and in the whole process; pages of memory-mapped files count 1 in 16 (fault-around). Medians of the runs after the first.)',
);
lines.push('');
lines.push('Against the naive peer of the same storage, in this run (cold start p50, ours ÷ naive):');
lines.push('');
for (const c of cold.filter((entry) => !entry.model.naive && entry.model.optimize)) {
  const peer = cold.find((entry) => entry.model.name === `naive-${c.model.storage}`);
  if (peer !== undefined)
    lines.push(
      `- ${c.model.name}: ${ms(c.summary.p50)} ÷ ${ms(peer.summary.p50)} = **${(c.summary.p50 / peer.summary.p50).toFixed(2)}×** (per-run ratios, round by round: ${c.rest.map((r, i) => (r.totalMs / (peer.rest[i]?.totalMs ?? NaN)).toFixed(2)).join(', ')})`,
    );
}
for (const p of provisioned) {
  lines.push('');
  lines.push(
    `With provisioned concurrency (${p.model.name}): init (boot + model load + one blank run) p50 ${ms(p.init.p50)}, then the first request p50 ${ms(p.firstRequest.p50)}.`,
  );
}
lines.push('');
lines.push(
  `Warm (whole handler call, ${warmRuns} requests of each kind after 20 unmeasured, in blocks of ${BLOCK} round-robin across the models, 2 threads):`,
);
lines.push('');
lines.push(
  '| model | POST p50 | POST p90 | POST p99 | POST min | GET ?url= p50 | GET p99 | decode + preprocess p50 | inference p50 | CPU idle before |',
);
lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const w of warm) {
  lines.push(
    `| ${w.model.name} | **${ms(w.post.p50)}** | ${ms(w.post.p90)} | **${ms(w.post.p99)}** | ${ms(w.post.min)} | ${ms(w.get.p50)} | ${ms(w.get.p99)} | ${w.preprocess.p50.toFixed(1)} ms | ${w.infer.p50.toFixed(1)} ms | ${w.idleBefore}% |`,
  );
}
if (agreement.length > 0) {
  lines.push('');
  lines.push('| storage | top-1 agrees with float32 | largest probability difference (top 20) |');
  lines.push('|---|---:|---:|');
  for (const a of agreement) lines.push(`| ${a.storage} | ${a.top1}/${a.images} | ${a.worstProbabilityDifference.toFixed(4)} |`);
}
process.stdout.write(`${lines.join('\n')}\n`);
if (values.json !== undefined)
  writeFileSync(values.json, `${JSON.stringify({ cold, provisioned, warm, agreement, loadavg: os.loadavg() }, null, 2)}\n`);
