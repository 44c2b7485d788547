// The provisioner's core (no Lambda types): install, activate, roll back and prune releases.
//
// install, step by step, and what a crash at each step leaves:
//   1. sweep .staging/ of earlier runs' debris: directories whose owner's lock lease is dead;
//   2. lock .staging/<token> (exclusive, before creating it), download the artifact and stream it,
//      hashed, through the strict extractor into it    crash: debris in .staging/, swept by step 1
//   3. compare the SHA-256, check the release's layout and release.json's digests, write
//      .artifact.json                               mismatch: staging removed, nothing changed
//   4. under `current`'s lock: atomicMove .staging/<token> → releases/<version> (one rename)
//                                                    crash after it: installed, not active; a rerun activates it
//   5. switchSymlink current → releases/<version> (temp link + rename), history, prune.
// Readers (ml-inference) follow `current`, which names a complete release before and after 5.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';

import type { S3Client } from '@aws-sdk/client-s3';
import { atomicMove, atomicWriteFile, lock, LockTimeoutError, removeTree, switchSymlink, withLock, type Lock } from '@lambda-efs/efs-utils';

import { extractTarGz, type ExtractLimits, type ExtractResult } from '../archive/extract.js';
import { ArchiveError, DigestMismatchError, NotInstalledError, ProvisionerError, VersionConflictError } from '../errors.js';
import { checkArtifactAllowed, describeArtifact, downloadError, openArtifact, type ArtifactPolicy } from './download.js';
import { ARTIFACT_FILE, ReleaseSet, type ArtifactRecord, type HistoryEvent } from './release-set.js';
import type { ActivateRequest, InstallRequest, ProvisionRequest, ProvisionResult, PruneRequest, RollbackRequest } from './request.js';

const INSTALLED_BY = '@lambda-efs/efs-provisioner';

/** What the core needs besides the request. */
export interface ProvisionerDeps {
  /** Where the access point is mounted: targets are directories under it. */
  readonly root: string;
  /** Downloads artifacts (install only). */
  readonly s3?: S3Client;
  /** Which bucket and prefix artifacts may come from. */
  readonly policy?: ArtifactPolicy;
  /** @default DEFAULT_EXTRACT_LIMITS */
  readonly limits?: Partial<ExtractLimits>;
  /**
   * Lease length of the locks (`current`'s and the staging lock), in ms. Every process touching
   * the same release set must use the same value. @default 10000
   */
  readonly staleMs?: number;
  readonly log?: (level: 'INFO' | 'WARN', message: string, fields: Record<string, unknown>) => void;
  /** Reports download progress (compressed bytes so far, total when known). */
  readonly onProgress?: (done: number, total: number | undefined) => void;
}

/**
 * Runs one request.
 * @throws {ProvisionerError} (a subclass) saying what to do; nothing active changed.
 * @example
 * const result = await provision({ action: 'rollback', target: 'models/demo' }, { root: '/mnt/ml' });
 */
export async function provision(request: ProvisionRequest, deps: ProvisionerDeps): Promise<ProvisionResult> {
  switch (request.action) {
    case 'install':
      return install(request, deps);
    case 'activate':
      return activate(request, deps);
    case 'rollback':
      return rollback(request, deps);
    case 'prune':
      return prune(request, deps);
  }
}

/** Downloads, verifies and installs a release; activates it unless `activate: false`; keeps `keep` releases. */
async function install(request: InstallRequest, deps: ProvisionerDeps): Promise<ProvisionResult> {
  const set = new ReleaseSet(deps.root, request.target);
  const { version, artifact } = request;
  checkArtifactAllowed(artifact, deps.policy ?? { bucket: undefined });
  if (deps.s3 === undefined) throw new ProvisionerError('ECONFIG', 'install needs an S3 client.');
  await set.ensureDirectories();
  await sweepStaging(set, deps);

  // The same artifact again: a no-op (or an activation) without downloading anything. Another
  // artifact for an installed version is downloaded and compared by content below (a release
  // re-packed by another gzip is the same release); other content is a conflict.
  if (await set.isInstalled(version)) {
    const record = await installedRecord(set, request);
    if (record.artifact.sha256 === artifact.sha256) {
      return withLock(set.currentLink, (held) => commitInstalled(set, request, held, false, deps.log), lockOptions(deps));
    }
    if (record.contentSha256 === undefined) throw conflict(set, request, record);
  }

  // The extraction's directory is ours while we hold its lock, taken before the directory
  // exists: a sweeper that gets the lock of a directory it found knows its owner is gone.
  const staging = join(set.stagingDir, `${version}.${randomBytes(6).toString('hex')}`);
  const stagingLock = await lock(staging, lockOptions(deps));
  try {
    await mkdir(staging, { mode: 0o755 });
    deps.log?.('INFO', 'downloading', { target: set.target, version, artifact: describeArtifact(artifact), staging });
    const extracted = await download(request, deps, staging);
    await checkRelease(set, staging, extracted);
    const record: ArtifactRecord = {
      target: set.target,
      version,
      artifact,
      bytes: extracted.compressedBytes,
      contentBytes: extracted.contentBytes,
      files: extracted.files,
      contentSha256: extracted.contentSha256,
      installedAt: new Date().toISOString(),
      installedBy: INSTALLED_BY,
    };
    await atomicWriteFile(join(staging, ARTIFACT_FILE), `${JSON.stringify(record, null, 2)}\n`, { mode: 0o644 });
    deps.log?.('INFO', 'verified', {
      target: set.target,
      version,
      sha256: extracted.sha256Hex,
      files: extracted.files,
      contentBytes: extracted.contentBytes,
    });

    return await withLock(
      set.currentLink,
      async (held) => {
        // Another run may have installed the version while this one downloaded.
        if (await set.isInstalled(version)) {
          const record = await installedRecord(set, request);
          if (record.artifact.sha256 !== artifact.sha256 && record.contentSha256 !== extracted.contentSha256)
            throw conflict(set, request, record);
          return commitInstalled(set, request, held, false, deps.log);
        }
        await atomicMove(staging, set.releaseDir(version), { lock: held });
        return commitInstalled(set, request, held, true, deps.log);
      },
      lockOptions(deps),
    );
  } finally {
    // Gone after the move; otherwise a failed or duplicate install's leftovers.
    await removeTree(staging).catch(() => undefined);
    await stagingLock.release();
    await removeLockLeftovers(set.stagingDir, basename(staging));
  }
}

/** Makes an installed version current. */
async function activate(request: ActivateRequest, deps: ProvisionerDeps): Promise<ProvisionResult> {
  const set = new ReleaseSet(deps.root, request.target);
  await assertSetExists(set);
  return withLock(
    set.currentLink,
    async (held) => {
      const previous = await set.readCurrent();
      await assertInstalled(set, request.version);
      if (previous === request.version) {
        return result(
          set,
          'activate',
          false,
          request.version,
          previous,
          [],
          `${set.target} ${request.version} is already active: nothing changed`,
        );
      }
      await switchTo(set, request.version, held);
      return result(set, 'activate', true, request.version, previous, [], `activated ${set.target} ${request.version} (${was(previous)})`);
    },
    lockOptions(deps),
  );
}

/** Makes `to` current, or the release that was active before the current one. */
async function rollback(request: RollbackRequest, deps: ProvisionerDeps): Promise<ProvisionResult> {
  const set = new ReleaseSet(deps.root, request.target);
  await assertSetExists(set);
  return withLock(
    set.currentLink,
    async (held) => {
      const previous = await set.readCurrent();
      const to = request.to ?? (await previouslyActive(set, previous));
      await assertInstalled(set, to);
      if (previous === to) {
        return result(set, 'rollback', false, to, previous, [], `${set.target} ${to} is already active: nothing changed`);
      }
      await switchTo(set, to, held);
      return result(set, 'rollback', true, to, previous, [], `rolled back ${set.target} to ${to} (${was(previous)})`);
    },
    lockOptions(deps),
  );
}

/** Removes all but the `keep` most recently used releases; never the active one. */
async function prune(request: PruneRequest, deps: ProvisionerDeps): Promise<ProvisionResult> {
  const set = new ReleaseSet(deps.root, request.target);
  await assertSetExists(set);
  return withLock(
    set.currentLink,
    async (held) => {
      const active = await set.readCurrent();
      const pruned = await pruneLocked(set, request.keep, active, held, deps.log);
      const kept = await set.versionsByRecency();
      const message =
        pruned.length === 0
          ? `nothing to prune in ${set.target}: ${kept.length} release${kept.length === 1 ? '' : 's'} (keep ${request.keep})`
          : `pruned ${set.target} ${pruned.join(', ')}; kept ${kept.map((v) => (v === active ? `${v} (active)` : v)).join(', ')}`;
      return result(set, 'prune', pruned.length > 0, active, active, pruned, message);
    },
    lockOptions(deps),
  );
}

function lockOptions(deps: ProvisionerDeps): { staleMs?: number } {
  return deps.staleMs === undefined ? {} : { staleMs: deps.staleMs };
}

async function download(request: InstallRequest, deps: ProvisionerDeps, staging: string): Promise<ExtractResult> {
  const { artifact } = request;
  const where = describeArtifact(artifact);
  const stream = await openArtifact(deps.s3 as S3Client, artifact);
  deps.onProgress?.(0, stream.bytes);
  // A log line per tenth of a big download: a long install shows where it is in the logs.
  let nextReport = 0.1;
  const report = (done: number): void => {
    deps.onProgress?.(done, stream.bytes);
    if (stream.bytes === undefined || stream.bytes < 64 * 1024 * 1024 || done / stream.bytes < nextReport) return;
    nextReport = Math.floor((done / stream.bytes) * 10) / 10 + 0.1;
    deps.log?.('INFO', 'downloading', { target: request.target, version: request.version, bytes: done, of: stream.bytes });
  };
  let extracted: ExtractResult;
  try {
    extracted = await extractTarGz(stream.body, staging, {
      ...(deps.limits === undefined ? {} : { limits: deps.limits }),
      onCompressedBytes: report,
    });
  } catch (error) {
    if (error instanceof ProvisionerError) throw error;
    throw downloadError(where, error);
  }
  if (extracted.sha256Hex !== artifact.sha256) throw new DigestMismatchError(`The artifact ${where}`, artifact.sha256, extracted.sha256Hex);
  if (stream.bytes !== undefined && stream.bytes !== extracted.compressedBytes) {
    throw downloadError(where, new Error(`received ${extracted.compressedBytes} of ${stream.bytes} bytes`));
  }
  return extracted;
}

/**
 * A release must hold what its reader needs: a model, the files ml-inference loads (and, when it
 * has a release.json, exactly the files and digests it lists); libraries, a node_modules
 * directory.
 */
async function checkRelease(set: ReleaseSet, staging: string, extracted: ExtractResult): Promise<void> {
  const where = `The release ${set.target} in the artifact`;
  if (extracted.digests.has(ARTIFACT_FILE))
    throw new ArchiveError(`${where} contains ${ARTIFACT_FILE}, a name the provisioner reserves. Remove it from the release directory.`);
  if (!set.isModel) {
    const entries = await readdir(staging);
    if (!entries.includes('node_modules'))
      throw new ArchiveError(`${where} has no node_modules/ directory: a libraries release holds node_modules/<package>/… at its top.`);
    return;
  }
  for (const file of ['model.onnx', 'labels.txt', 'model.json']) {
    if (!extracted.digests.has(file)) {
      throw new ArchiveError(
        `${where} has no ${file} at its top: ml-inference needs model.onnx, labels.txt and model.json. Pack the release directory (pnpm model:publish does).`,
      );
    }
  }
  const manifestDigest = extracted.digests.get('release.json');
  if (manifestDigest === undefined) return;
  let manifest: { files?: Record<string, { bytes?: unknown; sha256?: unknown }> };
  try {
    manifest = JSON.parse(await readFile(join(staging, 'release.json'), 'utf8')) as typeof manifest;
  } catch (error) {
    throw new ArchiveError(
      `${where} has a release.json that is not JSON (${error instanceof Error ? error.message : String(error)}). Pack the release again.`,
      { cause: error },
    );
  }
  for (const [file, expected] of Object.entries(manifest.files ?? {})) {
    const actual = extracted.digests.get(file);
    if (actual === undefined || actual.bytes !== expected.bytes || actual.sha256 !== expected.sha256) {
      throw new ArchiveError(
        `${where} does not match its release.json: ${file} ${actual === undefined ? 'is missing' : `is ${actual.bytes} bytes with SHA-256 ${actual.sha256}`}, ` +
          `release.json says ${String(expected.bytes)} bytes with SHA-256 ${String(expected.sha256)}. Pack the release again.`,
      );
    }
  }
}

/** The installed release's record; a release without one was not installed by the provisioner. */
async function installedRecord(set: ReleaseSet, request: InstallRequest): Promise<ArtifactRecord> {
  const record = await set.readArtifactRecord(request.version);
  if (record === undefined) {
    throw new VersionConflictError(
      `${set.target} ${request.version} is already installed, by other means than the provisioner (it has no ${ARTIFACT_FILE}). Versions are immutable: publish the new content under a new version.`,
    );
  }
  return record;
}

function conflict(set: ReleaseSet, request: InstallRequest, record: ArtifactRecord): VersionConflictError {
  return new VersionConflictError(
    `${set.target} ${request.version} is already installed from another artifact (SHA-256 ${record.artifact.sha256}, ${describeArtifact(record.artifact)}) ` +
      `with other content than ${request.artifact.sha256}. Versions are immutable: publish the new content under a new version.`,
  );
}

/** After the release is in releases/ (moved now, or found there): activate, record, prune. */
async function commitInstalled(
  set: ReleaseSet,
  request: InstallRequest,
  held: Lock,
  installedNow: boolean,
  log?: ProvisionerDeps['log'],
): Promise<ProvisionResult> {
  const previous = await set.readCurrent();
  const { version } = request;
  const events: HistoryEvent[] = installedNow ? [{ at: new Date().toISOString(), event: 'installed', version }] : [];
  const switching = request.activate && previous !== version;
  if (events.length > 0 && !switching) await set.appendHistory(events, held);
  if (switching) await switchTo(set, version, held, events);
  const active = switching ? version : previous;
  const pruned = await pruneLocked(set, request.keep, active, held, log);
  let message: string;
  if (installedNow) {
    message = switching
      ? `installed and activated ${set.target} ${version} (${was(previous)})`
      : request.activate
        ? `installed ${set.target} ${version} (already active)`
        : `installed ${set.target} ${version}, not activated (${previous === null ? 'nothing is active' : `${previous} stays active`})`;
  } else if (switching) {
    message = `${set.target} ${version} was already installed; activated it (${was(previous)})`;
  } else {
    message = `${set.target} ${version} is already installed${previous === version ? ' and active' : ''}: nothing changed`;
  }
  if (pruned.length > 0) message += `; pruned ${pruned.join(', ')}`;
  return result(set, 'install', installedNow || switching || pruned.length > 0, active, previous, pruned, message);
}

async function switchTo(set: ReleaseSet, version: string, held: Lock, earlier: readonly HistoryEvent[] = []): Promise<void> {
  await held.assertHeld();
  await switchSymlink(set.currentLink, `releases/${version}`, { lock: held });
  await set.appendHistory([...earlier, { at: new Date().toISOString(), event: 'activated', version }], held);
}

async function assertInstalled(set: ReleaseSet, version: string): Promise<void> {
  if (await set.isInstalled(version)) return;
  const installed = await set.versionsByRecency();
  throw new NotInstalledError(
    `${set.target} ${version} is not installed (installed: ${installed.length === 0 ? 'none' : installed.join(', ')}). ` +
      'Install it first (pnpm model:publish), or pick an installed version.',
  );
}

/** The most recently activated version other than the active one that is still installed. */
async function previouslyActive(set: ReleaseSet, active: string | null): Promise<string> {
  const history = await set.readHistory();
  const installed = new Set(await set.listVersions());
  for (let i = history.length - 1; i >= 0; i--) {
    const event = history[i];
    if (event?.event === 'activated' && event.version !== active && installed.has(event.version)) return event.version;
  }
  throw new NotInstalledError(
    `${set.target} has no earlier active release to roll back to (installed: ${[...installed].join(', ') || 'none'}). Name one with "to" (--to <version>).`,
  );
}

async function pruneLocked(
  set: ReleaseSet,
  keep: number,
  active: string | null,
  held: Lock,
  log?: ProvisionerDeps['log'],
): Promise<string[]> {
  const byRecency = await set.versionsByRecency();
  const others = byRecency.filter((version) => version !== active);
  const keepOthers = Math.max(0, keep - (active === null ? 0 : 1));
  const doomed: string[] = [];
  for (const version of others.slice(keepOthers)) {
    await held.assertHeld();
    try {
      await removeTree(set.releaseDir(version));
    } catch (error) {
      // removeTree renames first: when the name is gone, only deleting the hidden trash failed
      // (on NFS, a client still had a file open), and the sweep below retries it next time.
      if (await set.isInstalled(version)) {
        log?.('WARN', 'release not pruned', {
          target: set.target,
          version,
          reason: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
    }
    doomed.push(version);
  }
  if (doomed.length > 0)
    await set.appendHistory(
      doomed.map((version) => ({ at: new Date().toISOString(), event: 'pruned' as const, version })),
      held,
    );
  // Trash a removal left behind (an NFS client still had a file open).
  for (const name of await readdir(set.releasesDir).catch(() => [] as string[])) {
    if (name.startsWith('.') && name.endsWith('.trash')) await removeTree(join(set.releasesDir, name)).catch(() => undefined);
  }
  return doomed;
}

/**
 * efs-utils keeps a released lock's directory under a hidden name for reuse by the same path
 * (and sweeps such names after ten minutes). A staging path is never locked again once its
 * directory is gone, so its leftovers go now. A sweeper racing for the same lock just makes a
 * new staging name (efs-utils handles its own staging disappearing).
 */
async function removeLockLeftovers(dir: string, name: string): Promise<void> {
  for (const entry of await readdir(dir).catch(() => [] as string[])) {
    if (entry.startsWith(`.${name}.lock.`)) await removeTree(join(dir, entry)).catch(() => undefined);
  }
}

/** An extraction's directory under .staging/ (`<version>.<12 hex>`); the rest there is its locks'. */
const STAGING_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\.[0-9a-f]{12}$/;

/**
 * Removes what killed runs left in .staging/. Each extraction holds its directory's lock
 * (exclusive, a lease renewed while it runs); getting that lock means its owner is gone (a dead
 * lease is taken over after `staleMs`), so the directory is debris. A directory whose lock stays
 * held belongs to a live extraction and is left alone.
 */
async function sweepStaging(set: ReleaseSet, deps: ProvisionerDeps): Promise<void> {
  const names = (await readdir(set.stagingDir).catch(() => [] as string[])).filter((name) => STAGING_NAME.test(name));
  // Nothing there (the usual case): no lock, no wait.
  if (names.length === 0) return;
  const staleMs = deps.staleMs ?? 10_000;
  const removed: string[] = [];
  await Promise.all(
    names.map(async (name) => {
      const path = join(set.stagingDir, name);
      let held: Lock;
      try {
        held = await lock(path, { staleMs, timeoutMs: 2 * staleMs });
      } catch (error) {
        if (error instanceof LockTimeoutError) return;
        throw error;
      }
      try {
        await held.assertHeld();
        await removeTree(path);
        removed.push(name);
      } finally {
        await held.release();
      }
      await removeLockLeftovers(set.stagingDir, name);
    }),
  );
  if (removed.length > 0) deps.log?.('INFO', 'removed staging debris', { target: set.target, entries: removed });
  if (removed.length < names.length)
    deps.log?.('INFO', 'staging in use by another run; left alone', {
      target: set.target,
      entries: names.filter((n) => !removed.includes(n)),
    });
}

async function assertSetExists(set: ReleaseSet): Promise<void> {
  try {
    if ((await stat(set.dir)).isDirectory()) return;
  } catch {
    // reported below
  }
  throw new NotInstalledError(`Nothing is installed at ${set.target}. Install a release first (pnpm model:publish).`);
}

async function result(
  set: ReleaseSet,
  action: ProvisionRequest['action'],
  changed: boolean,
  active: string | null,
  previous: string | null,
  pruned: readonly string[],
  message: string,
): Promise<ProvisionResult> {
  return { action, target: set.target, changed, active, previous, releases: await set.versionsByRecency(), pruned, message };
}

function was(previous: string | null): string {
  return previous === null ? 'nothing was active' : `was ${previous}`;
}
