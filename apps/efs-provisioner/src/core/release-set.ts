// A release set on the file system, laid out exactly as ml-inference reads a model:
//
//   <root>/<target>/
//     releases/<version>/...        immutable releases (a model: model.onnx, labels.txt, model.json, release.json)
//     releases/<version>/.artifact.json   which artifact (bucket, key, version id, sha256) it came from
//     current -> releases/<version> switched atomically (switchSymlink); ml-inference readlinks it per request
//     .history.json                 installs and activations, newest last (rollback and prune order)
//     .staging/<token>/             extractions in progress; debris after a crash, swept by the next run
//
// `current`'s lock (efs-utils, at <target>/current) is the one ml-inference's model:install takes,
// so the two never interleave their switches.
import { mkdir, readFile, readdir, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';

import { atomicWriteFile, type Lock } from '@lambda-efs/efs-utils';

import { ReleaseStateError, systemErrorCode } from '../errors.js';
import { VERSION_PATTERN, type ArtifactRef } from './request.js';

/** The file in each release that records the artifact it was installed from. */
export const ARTIFACT_FILE = '.artifact.json';
const HISTORY_FILE = '.history.json';
const HISTORY_LIMIT = 1000;
const DIR_MODE = 0o755;

/** What `.artifact.json` holds. */
export interface ArtifactRecord {
  readonly target: string;
  readonly version: string;
  readonly artifact: ArtifactRef;
  /** Compressed bytes downloaded. */
  readonly bytes: number;
  /** Bytes of the release's files. */
  readonly contentBytes: number;
  readonly files: number;
  /** The extractor's content digest (independent of compression); absent in records of older provisioners. */
  readonly contentSha256?: string;
  readonly installedAt: string;
  readonly installedBy: string;
}

export interface HistoryEvent {
  readonly at: string;
  readonly event: 'installed' | 'activated' | 'pruned';
  readonly version: string;
}

export class ReleaseSet {
  readonly target: string;
  readonly dir: string;
  readonly releasesDir: string;
  readonly currentLink: string;
  readonly stagingDir: string;
  readonly historyFile: string;

  constructor(root: string, target: string) {
    this.target = target;
    this.dir = join(root, target);
    this.releasesDir = join(this.dir, 'releases');
    this.currentLink = join(this.dir, 'current');
    this.stagingDir = join(this.dir, '.staging');
    this.historyFile = join(this.dir, HISTORY_FILE);
  }

  /** A model (`models/<name>`) rather than native libraries. */
  get isModel(): boolean {
    return this.target.startsWith('models/');
  }

  releaseDir(version: string): string {
    return join(this.releasesDir, version);
  }

  /** Creates the set's directories (mode 0755, readable by the functions that only read). */
  async ensureDirectories(): Promise<void> {
    await mkdir(this.releasesDir, { recursive: true, mode: DIR_MODE });
    await mkdir(this.stagingDir, { recursive: true, mode: DIR_MODE });
  }

  /** The version `current` points at; null when there is no `current`. */
  async readCurrent(): Promise<string | null> {
    let target: string;
    try {
      target = await readlink(this.currentLink);
    } catch (error) {
      const code = systemErrorCode(error);
      if (code === 'ENOENT') return null;
      if (code === 'EINVAL')
        throw new ReleaseStateError(
          `${this.currentLink} is not a symlink. Move it away: the provisioner switches it as a symlink to releases/<version>.`,
          { cause: error },
        );
      throw error;
    }
    const match = /^releases\/([^/]+)$/.exec(target);
    if (match === null || !VERSION_PATTERN.test(match[1] ?? '')) {
      throw new ReleaseStateError(`${this.currentLink} points at "${target}", not releases/<version>. Activate a version to repair it.`);
    }
    return match[1] ?? null;
  }

  /** Installed versions (directories under releases/), in no particular order. */
  async listVersions(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.releasesDir);
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT') return [];
      throw error;
    }
    // Hidden names are efs-utils' trash of a removal in progress.
    return names.filter((name) => VERSION_PATTERN.test(name));
  }

  async isInstalled(version: string): Promise<boolean> {
    try {
      return (await stat(this.releaseDir(version))).isDirectory();
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT') return false;
      throw error;
    }
  }

  /** The release's `.artifact.json`; undefined when the release has none (installed by model:install). */
  async readArtifactRecord(version: string): Promise<ArtifactRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.releaseDir(version), ARTIFACT_FILE), 'utf8')) as ArtifactRecord;
    } catch (error) {
      if (systemErrorCode(error) === 'ENOENT') return undefined;
      throw new ReleaseStateError(
        `${join(this.releaseDir(version), ARTIFACT_FILE)} cannot be read (${error instanceof Error ? error.message : String(error)}).`,
        { cause: error },
      );
    }
  }

  async readHistory(): Promise<HistoryEvent[]> {
    try {
      const value = JSON.parse(await readFile(this.historyFile, 'utf8')) as { events?: unknown };
      return Array.isArray(value.events) ? (value.events as HistoryEvent[]) : [];
    } catch (error) {
      // A missing or damaged history only loses ordering hints: installation times stand in.
      if (systemErrorCode(error) === 'ENOENT' || error instanceof SyntaxError) return [];
      throw error;
    }
  }

  /** Appends events under `current`'s lock (one atomic write). */
  async appendHistory(events: readonly HistoryEvent[], lock: Lock): Promise<void> {
    const all = [...(await this.readHistory()), ...events].slice(-HISTORY_LIMIT);
    await atomicWriteFile(this.historyFile, `${JSON.stringify({ events: all }, null, 1)}\n`, { lock, mode: 0o644 });
  }

  /**
   * Installed versions, most recently used first: by their latest install or activation in the
   * history; releases the history does not know (installed by model:install) come after, newest
   * first by `.artifact.json` or the directory's change time.
   */
  async versionsByRecency(): Promise<string[]> {
    const versions = await this.listVersions();
    const history = await this.readHistory();
    const position = new Map<string, number>();
    history.forEach((event, index) => {
      if (event.event !== 'pruned') position.set(event.version, index + 1);
    });
    const time = new Map<string, number>();
    for (const version of versions) {
      if (position.has(version)) continue;
      const record = await this.readArtifactRecord(version).catch(() => undefined);
      time.set(version, record === undefined ? (await stat(this.releaseDir(version))).ctimeMs : Date.parse(record.installedAt) || 0);
    }
    return versions.sort(
      (a, b) => (position.get(b) ?? 0) - (position.get(a) ?? 0) || (time.get(b) ?? 0) - (time.get(a) ?? 0) || (a < b ? 1 : a > b ? -1 : 0),
    );
  }
}
