#!/usr/bin/env node
// `pnpm --filter @lambda-efs/infra plan-throughput --size-gib 10 --cold-start-gib 2 [--cold-starts-per-day 50]
//  [--provisioned-mibps 10] [--json]`: the post's EFS throughput arithmetic for your numbers.
import { InfraError } from '../errors.js';
import { parsePlanArgs } from './args.js';
import { formatPlan } from './format.js';
import { planThroughput } from './throughput.js';

function main(argv: readonly string[]): number {
  try {
    const { input, json } = parsePlanArgs(argv);
    const plan = planThroughput(input);
    process.stdout.write(`${json ? JSON.stringify(plan, null, 2) : formatPlan(plan)}\n`);
    return 0;
  } catch (error) {
    if (error instanceof InfraError || error instanceof RangeError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

process.exitCode = main(process.argv.slice(2));
