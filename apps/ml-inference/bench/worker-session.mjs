// Would creating the onnxruntime session in a worker thread shorten a cold start? onnxruntime-node's
// InferenceSession.create blocks its thread, so a worker is the only way to load sharp and
// preprocess the image meanwhile. Three kinds of fresh process, alternating round by round, each
// timed from its start to its first scores (performance.now(), as naive-cold-start.mjs reports):
//   serial    onnxruntime, sharp, the session, decode + preprocess, one run (the function's order,
//             its session options and preprocessing, from dist/: `pnpm build` first)
//   threaded  the session in a worker thread while the main thread loads sharp and preprocesses;
//             the tensor is transferred to the worker for the run
//   naive     the main bench's naive peer, naive-cold-start.mjs: onnxruntime, a session from
//             model.onnx with default options, one run of a pattern
// The models and the image are the main bench's: run `node bench/run.mjs --variants int8-qdq` once.
//
//   node bench/worker-session.mjs [--rounds 10] [--variant int8-qdq]
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import { parseArgs } from 'node:util';

import { CONFIG_DEFAULTS } from '../dist/config.js';
import { parseModelConfig } from '../dist/core/model-config.js';
import { preprocessImage } from '../dist/core/preprocess.js';
import { sessionOptions } from '../dist/core/session.js';

const require = createRequire(import.meta.url);
const WORK = fileURLToPath(new URL('../.bench/', import.meta.url));
const NAIVE = fileURLToPath(new URL('./naive-cold-start.mjs', import.meta.url));

function modelPaths(variant) {
  const release = `${WORK}models/resnet50-${variant}/releases/1`;
  const optimizedDir = `${release}/optimized`;
  const [key] = readdirSync(optimizedDir);
  if (key === undefined) throw new Error(`no optimized graph in ${optimizedDir}: run node bench/run.mjs --variants ${variant} first`);
  const config = parseModelConfig(readFileSync(`${release}/model.json`, 'utf8'), `${release}/model.json`);
  return { source: `${release}/model.onnx`, optimized: `${optimizedDir}/${key}/model.onnx`, config };
}

// The function's own session options (a cached, pre-optimized graph) and preprocessing.
const OPTIONS = sessionOptions({ threads: 2, preoptimized: true });

/** The benchmark JPEG as the function preprocesses it (the release's model.json: resize, crop, normalize). */
async function preprocess(sharp, model) {
  const tensor = await preprocessImage(sharp, readFileSync(`${WORK}bird.jpg`), 'jpeg', model.config, {
    maxPixels: CONFIG_DEFAULTS.maxImagePixels,
  });
  return { data: tensor.data, dims: tensor.dims };
}

async function run(ort, session, { data, dims }) {
  const output = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', data, dims) });
  return output[session.outputNames[0]].data;
}

const KINDS = {
  async serial(model) {
    const ort = require('onnxruntime-node');
    const sharp = require('sharp');
    const session = await ort.InferenceSession.create(model.optimized, OPTIONS);
    return run(ort, session, await preprocess(sharp, model));
  },
  async threaded(model) {
    const worker = new Worker(fileURLToPath(import.meta.url), { workerData: model.optimized });
    const ready = new Promise((resolve) => worker.once('message', resolve));
    const sharp = require('sharp');
    const tensor = await preprocess(sharp, model);
    await ready;
    const scores = await new Promise((resolve) => {
      worker.once('message', resolve);
      worker.postMessage(tensor, [tensor.data.buffer]);
    });
    await worker.terminate();
    return scores;
  },
};

/** One cold start of `kind` in a fresh process: ms from its start to its first scores. */
function coldStart(kind, variant) {
  if (kind === 'naive') {
    const out = execFileSync(process.execPath, [NAIVE, modelPaths(variant).source], { encoding: 'utf8' });
    const { bootMs, steps } = JSON.parse(/^RESULT (.*)$/m.exec(out)[1]);
    return bootMs + Object.values(steps).reduce((sum, step) => sum + step.ms, 0);
  }
  const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', kind, variant], { encoding: 'utf8' });
  return JSON.parse(out).ms;
}

if (!isMainThread) {
  // The threaded kind's worker: the session, then one run per tensor it is sent.
  const { workerData } = await import('node:worker_threads');
  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(workerData, OPTIONS);
  parentPort.postMessage('ready');
  parentPort.on('message', async (tensor) => {
    const scores = await run(ort, session, tensor);
    parentPort.postMessage(scores, [scores.buffer]);
  });
} else if (process.argv[2] === '--child') {
  // One cold start: argv = --child <kind> <variant>.
  const [, , , kind, variant] = process.argv;
  const scores = await KINDS[kind](modelPaths(variant));
  process.stdout.write(`${JSON.stringify({ ms: performance.now(), scores: scores.length })}\n`);
} else {
  const { values } = parseArgs({
    options: { rounds: { type: 'string', default: '10' }, variant: { type: 'string', default: 'int8-qdq' } },
  });
  modelPaths(values.variant); // fails early when the main bench has not run
  const kinds = [...Object.keys(KINDS), 'naive'];
  const times = Object.fromEntries(kinds.map((kind) => [kind, []]));
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const kind of round % 2 === 0 ? kinds : [...kinds].reverse()) times[kind].push(Math.round(coldStart(kind, values.variant)));
  }
  const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
  for (const kind of kinds) console.log(`${kind}: median ${median(times[kind])} ms (${times[kind].join(', ')})`);
  const naive = median(times.naive);
  console.log(`÷ naive: serial ${(median(times.serial) / naive).toFixed(2)}, threaded ${(median(times.threaded) / naive).toFixed(2)}`);
}
