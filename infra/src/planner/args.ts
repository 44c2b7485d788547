import { parseArgs } from 'node:util';

import { UsageError } from '../errors.js';
import type { ThroughputPlanInput } from './throughput.js';

/** The usage line `plan-throughput` prints on a wrong argument. */
export const USAGE =
  'usage: plan-throughput --size-gib <GiB stored> --cold-start-gib <GiB read per cold start> ' +
  '[--cold-starts-per-day <n>] [--provisioned-mibps <MiB/s>] [--model-mib <MiB> --libraries-mib <MiB>] [--json]\n' +
  'example (the post): plan-throughput --size-gib 10 --cold-start-gib 2 --provisioned-mibps 10';

/** Parses the command line into planner input; throws {@link UsageError} with the usage line. */
export function parsePlanArgs(argv: readonly string[]): { input: ThroughputPlanInput; json: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        'size-gib': { type: 'string' },
        'cold-start-gib': { type: 'string' },
        'cold-starts-per-day': { type: 'string' },
        'provisioned-mibps': { type: 'string' },
        'model-mib': { type: 'string' },
        'libraries-mib': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
  }
  if (values.help) throw new UsageError(USAGE);
  const number = (name: string, text: string | undefined, required: boolean): number | null => {
    if (text === undefined) {
      if (required) throw new UsageError(`--${name} is required.\n${USAGE}`);
      return null;
    }
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`--${name} must be a number (got ${JSON.stringify(text)}).\n${USAGE}`);
    }
    return value;
  };
  const storedGib = number('size-gib', values['size-gib'], true) ?? 0;
  const coldStartGib = number('cold-start-gib', values['cold-start-gib'], true) ?? 0;
  const modelMib = number('model-mib', values['model-mib'], false);
  const librariesMib = number('libraries-mib', values['libraries-mib'], false);
  if ((modelMib === null) !== (librariesMib === null)) {
    throw new UsageError(`--model-mib and --libraries-mib go together (one cold start's model and native libraries, in MiB).\n${USAGE}`);
  }
  return {
    input: {
      storedGib,
      coldStartGib,
      coldStartsPerDay: number('cold-starts-per-day', values['cold-starts-per-day'], false),
      provisionedMibps: number('provisioned-mibps', values['provisioned-mibps'], false),
      coldStartParts: modelMib === null || librariesMib === null ? null : { modelMib, librariesMib },
    },
    json: values.json,
  };
}
