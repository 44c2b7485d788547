#!/usr/bin/env node
// The `smoke` command (root script `pnpm smoke <base-url>`): see ./main.ts and the README.
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.env['INIT_CWD'] ?? process.cwd(),
  githubActions: process.env['GITHUB_ACTIONS'] === 'true',
});
