#!/usr/bin/env node
// lambda-efs-local [options] <declaration module>...
// Each module is a compiled declaration file (such as apps/message-wall/dist/function.js) that
// exports `functionDefinition` and, optionally, `accessPoint`.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

import type { AccessPointSpec, FunctionSpec } from '@lambda-efs/function-spec';

import { parseCliArgs } from './args.js';
import { runLocalApi } from './run.js';

const USAGE = 'Usage: lambda-efs-local [options] <declaration module>...';
const argv = process.argv.slice(2);
let modules: readonly string[] = [];
try {
  const command = parseCliArgs(argv);
  modules = command.kind === 'run' ? command.modules : [];
} catch {
  // runLocalApi reports the command-line error below.
}

const functions: FunctionSpec[] = [];
const accessPoints: AccessPointSpec[] = [];
for (const module of modules) {
  const exports = (await import(pathToFileURL(resolve(module)).href)) as Record<string, unknown>;
  if (exports['functionDefinition'] === undefined) {
    console.error(`${module} exports no functionDefinition: pass a declaration module (such as apps/message-wall/dist/function.js).`);
    process.exit(1);
  }
  functions.push(exports['functionDefinition'] as FunctionSpec);
  if (exports['accessPoint'] !== undefined) accessPoints.push(exports['accessPoint'] as AccessPointSpec);
}
if (modules.length === 0 && !argv.includes('--help') && !argv.includes('-h')) {
  console.error(`${USAGE}\nGive at least one declaration module.`);
  process.exit(1);
}
await runLocalApi({ argv: argv.filter((arg) => !modules.includes(arg)), functions, accessPoints, usage: USAGE });
