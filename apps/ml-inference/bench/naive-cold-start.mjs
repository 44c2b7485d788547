// The naive peer of a cold start: what a script that knows nothing of caches does. A fresh process
// loads onnxruntime-node, creates a session from model.onnx's path with the default options, and
// runs one 448×448 image (a fixed pattern: no image decoding, no sharp). Ours does more (sharp,
// JPEG decode, preprocessing, the answer), so comparing the two is conservative.
//   node bench/naive-cold-start.mjs <model.onnx>
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const faultsMb = () => (process.resourceUsage().minorPageFault * 4096) / 1e6;
const steps = {};
let last = performance.now();
let lastFaults = faultsMb();
const step = (name) => {
  const now = performance.now();
  const faults = faultsMb();
  steps[name] = { ms: now - last, touchedMb: faults - lastFaults };
  last = now;
  lastFaults = faults;
};
const bootMs = performance.now();
const ort = require('onnxruntime-node');
step('libraries');
const session = await ort.InferenceSession.create(process.argv[2]);
step('session');
const input = new Float32Array(3 * 448 * 448).map((_, i) => Math.sin(i));
const output = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, 448, 448]) });
step('inference');
const peakRssMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1000;
process.stdout.write(
  `RESULT ${JSON.stringify({ bootMs, steps, touchedMb: faultsMb(), peakRssMb, classes: output[session.outputNames[0]].data.length })}\n`,
);
