// The optimized-graph cache of a release: `optimized/<key>/` holds the graph onnxruntime optimized
// for one CPU class and its weights (OPTIMIZED_FILES). model:install writes the entry for its own
// machine; a function whose CPU class has none writes it at its first cold start, so the later
// ones load it. Entries are published whole: written into a hidden scratch directory beside them,
// fsynced, then moved into place in one rename. Two writers racing publish one entry; the other's
// work is discarded. Readers never see half an entry.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { atomicMove, DestinationExistsError, removeTree } from '@lambda-efs/efs-utils';

import { systemErrorCode } from '../errors.js';

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;

/** What {@link publishOptimized} did. */
export type PublishOutcome = 'published' | 'already-there';

/**
 * A scratch directory to write an entry into, beside `optimized/<key>/`, or undefined when the
 * release cannot be written (a read-only mount or access point): the caller then loads without
 * caching.
 */
export async function optimizedScratch(optimizedDir: string, key: string): Promise<string | undefined> {
  try {
    await mkdir(optimizedDir, { mode: DIR_MODE });
  } catch (error) {
    if (systemErrorCode(error) !== 'EEXIST') return undefined;
  }
  try {
    await access(optimizedDir, constants.W_OK);
    const scratch = join(optimizedDir, `.${key}.${randomBytes(6).toString('hex')}.tmp`);
    await mkdir(scratch, { mode: DIR_MODE });
    return scratch;
  } catch {
    return undefined;
  }
}

/**
 * Publishes what was written into `scratch` as `<optimizedDir>/<key>/`: every file fsynced and
 * made world-readable, then one rename. The scratch directory is gone afterwards, whatever happens.
 * @param replace replace an existing entry (model:install's optimize command); the function never does.
 */
export async function publishOptimized(scratch: string, optimizedDir: string, key: string, replace = false): Promise<PublishOutcome> {
  const target = join(optimizedDir, key);
  try {
    for (const name of await readdir(scratch)) {
      const handle = await open(join(scratch, name), 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(join(scratch, name), FILE_MODE);
    }
    await chmod(scratch, DIR_MODE);
    if (replace) await removeTree(target);
    try {
      await atomicMove(scratch, target);
      return 'published';
    } catch (error) {
      if (error instanceof DestinationExistsError) return 'already-there';
      throw error;
    }
  } finally {
    await removeTree(scratch).catch(() => undefined);
  }
}
