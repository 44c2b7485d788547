// Starts the local runtime with the no-op function, logging on (text, to this process's stdout,
// which bench/run.mjs sends to a file), and reports its URL over IPC.
// Usage (from run.mjs): fork('server.mjs', [environments, freeze ? 'freeze' : 'no-freeze'])
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { defineFunction } from '@lambda-efs/function-spec';

import { startLocalApi } from '../dist/index.js';

const [environments = '4', freeze = 'freeze'] = process.argv.slice(2);
const scratch = mkdtempSync(join(tmpdir(), 'local-runtime-bench-efs-'));
const api = await startLocalApi({
  functions: [
    defineFunction({
      name: 'noop',
      entry: fileURLToPath(new URL('./noop.mjs', import.meta.url)),
      routes: ['GET /noop'],
      reservedConcurrency: Number(environments),
    }),
  ],
  efsRoot: join(scratch, 'efs'),
  port: 0,
  watch: false,
  freeze: freeze === 'freeze',
});
process.send?.({ url: `${api.url}/noop` });
process.on('disconnect', () => void api.close().then(() => rmSync(scratch, { recursive: true, force: true })));
