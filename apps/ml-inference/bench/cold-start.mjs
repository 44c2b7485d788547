// One cold start, as Lambda runs it: a fresh Node.js process imports the built handler (its init
// loads onnxruntime-node, sharp and the model), then answers one event. The parent measures from
// spawn to the RESULT line; this process reports where the time went and how much fresh memory it
// touched (minor page faults × 4 KiB: on Firecracker, Lambda's VMs, each fresh page costs).
//   node bench/cold-start.mjs <event.json> [<handler module>]     (the environment configures the function)
// The handler module: the deployment package's handler.mjs (run.mjs's default), or dist/handler.js.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const faultsMb = () => (process.resourceUsage().minorPageFault * 4096) / 1e6;
const importStart = performance.now();
const entry = process.argv[3] === undefined ? new URL('../dist/handler.js', import.meta.url).href : pathToFileURL(process.argv[3]).href;
const { handler } = await import(entry);
const initMs = performance.now() - importStart;
const event = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const invokeStart = performance.now();
const faultsBeforeInvoke = faultsMb();
const result = await handler(event, { awsRequestId: `bench-${process.pid}`, getRemainingTimeInMillis: () => 300_000 });
const invokeMs = performance.now() - invokeStart;
const peakRssMb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1000;
process.stdout.write(
  `RESULT ${JSON.stringify({ statusCode: result.statusCode, body: result.body, initMs, invokeMs, bootMs: importStart, invokeTouchedMb: faultsMb() - faultsBeforeInvoke, touchedMb: faultsMb(), peakRssMb })}\n`,
);
