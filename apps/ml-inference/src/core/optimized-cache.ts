// The optimized-graph cache of a release: `optimized/<key>/` holds the graph onnxruntime optimized
// for one CPU class and its weights (OPTIMIZED_FILES). model:install writes the entry for its own
// machine; a function whose CPU class has none writes it at its first cold start, so the later
// ones load it. Entries are published whole: written into a hidden scratch directory beside them,
// fsynced, then moved into place in one rename. Two writers racing publish one entry; the other's
// work is discarded. Readers never see half an entry. A writer killed mid-way (a Lambda timeout
// during its first cold start) leaves its scratch directory: the next writer removes the ones
// untouched for an hour, far longer than any writer lives (Lambda's longest timeout is 15 min).
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { access, chmod, lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

import { atomicMove, DestinationExistsError, removeTree } from '@lambda-efs/efs-utils';

import { systemErrorCode } from '../errors.js';

const FILE_MODE = 0o644;
const DIR_MODE = 0o755;
/** A scratch directory unchanged this long belongs to a writer that died. */
export const ABANDONED_SCRATCH_MS = 60 * 60_000;
const SCRATCH_NAME = /^\..+\.[0-9a-f]{12}\.tmp$/;

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
    await removeAbandonedScratch(optimizedDir);
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

/** Removes the scratch directories of writers that died (see the top of this file). Best effort. */
async function removeAbandonedScratch(optimizedDir: string): Promise<void> {
  const now = Date.now();
  let names: string[];
  try {
    names = await readdir(optimizedDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!SCRATCH_NAME.test(name)) continue;
    const path = join(optimizedDir, name);
    try {
      // The file system's clock against ours: an hour's margin covers any sane difference.
      if (now - (await lstat(path)).mtimeMs < ABANDONED_SCRATCH_MS) continue;
      await removeTree(path);
    } catch {
      // Gone meanwhile, or not ours to remove: the next writer tries again.
    }
  }
}
