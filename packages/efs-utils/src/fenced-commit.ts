import { dirname, resolve } from 'node:path';
import { InvalidArgumentError } from './errors.js';
import { Lease } from './lock/lease.js';
import type { Lock } from './types.js';

/**
 * Commits (a rename onto the target) under one of our leases are fenced: the temporary name is
 * the lease's (`.<locked name>.<token>.tmp`, next to the locked file), and a process that takes
 * the lease over removes it, so a rename that NFS delivers late fails (see lock/fence.ts).
 *
 * Returns the lease that fences a commit onto `path` under `held`; undefined for a Lock of
 * another implementation (checked before the commit, not fenced). Refuses one of our leases
 * that cannot fence it, rather than commit unfenced: a shared lease (a write needs an exclusive
 * one), or a lease on a file in another directory (a taker-over knows only the locked file's
 * directory, and a rename must stay in one file system).
 */
export function fencingLease(what: string, path: string, held: Lock | undefined): Lease | undefined {
  if (!(held instanceof Lease)) return undefined;
  if (held.mode !== 'exclusive') {
    throw new InvalidArgumentError(`${what}: options.lock is a shared lock; writing needs an exclusive one (lock(path) without mode).`);
  }
  if (dirname(held.path) !== dirname(resolve(path))) {
    throw new InvalidArgumentError(
      `${what}: options.lock locks ${held.path}, in another directory than ${resolve(path)}. On NFS a write under a lock is ` +
        'made safe against a takeover only next to the locked file: lock a file in the same directory (for example the one you write).',
    );
  }
  return held;
}

const commitsInFlight = new WeakMap<Lease, Promise<unknown>>();

/** One fenced commit at a time per lease: its temporary name is one. */
export function oneCommitAtATime<T>(lease: Lease, commit: () => Promise<T>): Promise<T> {
  const previous = commitsInFlight.get(lease) ?? Promise.resolve();
  const mine = previous.then(commit);
  commitsInFlight.set(
    lease,
    mine.catch(() => {}),
  );
  return mine;
}

/**
 * The commit of a write helper: checks the lock right before `rename` (synchronously for our
 * leases: nothing of this process runs in between), and afterwards counts the rename only if the
 * lease outlived it: a rename that NFS retransmitted for long, or one that failed because a
 * taker-over removed our temporary name, gets `LockCompromisedError` (it may or may not have
 * happened), not success or a raw error.
 */
export async function commitRename(held: Lock | undefined, what: string, rename: () => Promise<void>): Promise<void> {
  const lease = held instanceof Lease ? held : undefined;
  if (lease !== undefined) lease.assertHeldSync();
  else await held?.assertHeld();
  try {
    await rename();
  } catch (error) {
    lease?.confirmSync(what);
    throw error;
  }
  lease?.confirmSync(what);
}
