// Model releases for the tests: the demo model (dominant colour) with labels of our choosing, so
// that an answer tells which release served it.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { DEMO_LABELS, writeDemoModel } from '@lambda-efs/onnx-models';

/** The demo labels with `suffix` appended to each: release "v2" answers "red-v2". */
export function labelsFor(suffix: string): string[] {
  return DEMO_LABELS.map((label) => `${label}-${suffix}`);
}

/** Writes a model release directory (model.onnx, labels.txt, model.json) whose labels end in `-<suffix>`. */
export async function writeRelease(dir: string, suffix: string): Promise<string> {
  await writeDemoModel(dir);
  await writeFile(join(dir, 'labels.txt'), `${labelsFor(suffix).join('\n')}\n`);
  return dir;
}
