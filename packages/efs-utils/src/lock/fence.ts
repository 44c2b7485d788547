import { errorCode } from '../fs-helpers.js';
import { platform } from '../platform.js';
import { EXCLUSIVE_PREFIX, FENCE_PREFIX, leaseName, type LockLayout } from './layout.js';
import { lstatExists, renameOwn } from './lease.js';

/**
 * Taking over an exclusive lease, fenced (F3).
 *
 * A holder whose lease was taken over may still have requests on their way to the server: NFS
 * retransmits a WRITE, a RENAME for as long as the mount says (a `hard` mount: until the server
 * answers), and a process stopped between its last check and its write sends that write late.
 * Nothing can stop a request that is already on its way, so the taker-over makes sure each one
 * can no longer change anything that matters:
 *
 * - **WRITE** (appendLine) goes to the file handle, not the name: the target's content is copied
 *   to a new file that is renamed over it. A late WRITE lands in the old inode, which no name
 *   reaches any more (or fails with ESTALE).
 * - **RENAME of the holder's new content onto the target** (atomicWriteFile under a lease on the
 *   same path) renames a name derived from the holder's token (`layout.commitTempPath`): it is
 *   removed, so a late rename fails with ENOENT.
 * - **RENAME of the lock directory back to the holder's staging name** (its release): a symlink is
 *   put at that name first, and renaming a directory onto a symlink fails with ENOTDIR.
 *
 * Until all that is done nobody can take the lock: the reaped entry is not thrown away but
 * renamed to a fence marker (`f.<holder>.<fencer>.<seq>`) in the lock directory, which stays
 * non-empty meanwhile. A fencer that dies or stalls leaves its marker, which waiters reap like any
 * lease after `staleMs`, fencing again (also against the stalled fencer's own late rename: its
 * copy's name is removed too). The copy is committed only after a rename of the marker proves it
 * was not reaped meanwhile.
 *
 * This costs nothing on the uncontended path; a takeover copies the protected file once.
 */

/** Reaps the stale entry `name` of the lock directory and fences its holder; false when the entry was gone. */
export function reapAndFence(layout: LockLayout, name: string): boolean {
  const [holder, fencer] = fencedTokens(name);
  if (name.startsWith(EXCLUSIVE_PREFIX) && !blockLateRelease(layout, holder)) return false;
  const token = platform.token();
  const marker = (seq: number): string => `${layout.lockDir}/${FENCE_PREFIX}${holder}.${leaseName(token, seq)}`;
  if (!renameOwn(`${layout.lockDir}/${name}`, marker(0))) return false;
  // From here on the lock directory holds our marker: nobody can take the lock.
  for (const owner of fencer === undefined ? [holder] : [holder, fencer]) removeQuietly(layout.commitTempPath(owner));
  let seq = 0;
  try {
    replaceInode(layout, token, () => {
      if (!renameOwn(marker(seq), marker(seq + 1))) return false;
      seq += 1;
      return true;
    });
  } catch (error) {
    // With our marker gone, a waiter that reaped it removed our copy and fences in our place:
    // errors on the copy are its consequence. Otherwise the marker stays (nobody takes the lock
    // unfenced) until a waiter reaps it, and the error is the caller's.
    if (!lstatExists(marker(seq))) return true;
    throw error;
  }
  // ENOENT: another waiter reaped our marker (we were too slow) and fences in our place.
  removeQuietly(marker(seq));
  return true;
}

/** The tokens of the holders a stale entry belongs to: `x.<holder>.<seq>` or `f.<holder>.<fencer>.<seq>`. */
function fencedTokens(name: string): [string, string | undefined] {
  const parts = name.split('.');
  if (name.startsWith(FENCE_PREFIX) && parts.length === 4) return [parts[1] ?? '', parts[2]];
  return [parts[1] ?? '', undefined];
}

/**
 * A symlink at the holder's staging name: its late release (rename of the lock directory onto
 * that name) then fails with ENOTDIR instead of carrying away the next holder's lock. Left for
 * the sweep (one day), long after any retransmission gave up.
 *
 * False when a directory has that name: the holder's staging directory exists, so its entry is
 * not in the lock directory. The name we watched is in that (idle, reusable) staging directory,
 * which our stale cached lookup of the lock directory still resolves to (F2); reaping it there
 * would make us fence while somebody holds the real lock. Not reaped: the cache expires.
 */
function blockLateRelease(layout: LockLayout, holder: string): boolean {
  const blocker = layout.stagingDir(holder);
  try {
    platform.fs.symlinkSync(FENCE_BLOCKER_TARGET, blocker);
    return true;
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
  }
  try {
    return platform.fs.lstatSync(blocker).isSymbolicLink(); // an earlier fencer's blocker
  } catch {
    return false; // gone again (swept): try at the next listing
  }
}

/** What a release blocker points at: nothing, but it says what it is to a person listing the directory. */
const FENCE_BLOCKER_TARGET = 'fenced-after-takeover';

/**
 * Replaces the protected file by a copy of itself (same bytes, same permission bits), committed
 * only if `stillOurs()` right before the rename. A missing file, or anything but a regular file,
 * has no content a late WRITE could damage.
 */
function replaceInode(layout: LockLayout, token: string, stillOurs: () => boolean): void {
  let mode: number;
  let bytes: Uint8Array;
  try {
    const stats = platform.fs.lstatSync(layout.target);
    if (!stats.isFile()) return;
    mode = stats.mode & 0o7777;
    bytes = platform.fs.readFileSync(layout.target);
  } catch (error) {
    if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return;
    throw error;
  }
  const copy = layout.commitTempPath(token);
  const fd = platform.fs.openSync(copy, 'wx', mode);
  try {
    try {
      let written = 0;
      while (written < bytes.length) written += platform.fs.writeSync(fd, bytes, written, bytes.length - written);
      platform.fs.fchmodSync(fd, mode); // open() narrowed the mode by the umask
      platform.fs.fsyncSync(fd);
    } finally {
      platform.fs.closeSync(fd);
    }
    if (!stillOurs()) {
      removeQuietly(copy);
      return;
    }
    platform.fs.renameSync(copy, layout.target);
  } catch (error) {
    removeQuietly(copy);
    // ENOENT on the rename: a waiter that reaped our marker removed our copy (it fences now), or
    // our rename happened and its reply was lost. Either way the fence is done or being done.
    if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ESTALE') throw error;
  }
}

function removeQuietly(path: string): void {
  try {
    platform.fs.unlinkSync(path);
  } catch {
    // Gone already (or never made): nothing to fence there.
  }
}
