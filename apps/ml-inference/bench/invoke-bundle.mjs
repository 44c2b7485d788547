// One cold start of an extracted deployment package, as Lambda runs it: a fresh Node.js process
// imports <task dir>/handler.mjs (init: native libraries and the model), answers the event in
// argv[3] and prints RESULT <json>. The environment configures the function.
//   node --enable-source-maps bench/invoke-bundle.mjs <task dir> <event.json>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [taskDir, eventFile] = process.argv.slice(2);
const { handler } = await import(pathToFileURL(join(taskDir, 'handler.mjs')).href);
const initMs = performance.now();
const result = await handler(JSON.parse(readFileSync(eventFile, 'utf8')), {
  awsRequestId: `bench-${process.pid}`,
  getRemainingTimeInMillis: () => 300_000,
});
process.stdout.write(`RESULT ${JSON.stringify({ statusCode: result.statusCode, initMs, totalMs: performance.now() })}\n`);
