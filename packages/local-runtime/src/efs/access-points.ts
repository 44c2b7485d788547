import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';

import { localAccessPointDir, type AccessPointDefinition, type PosixIds } from '@lambda-efs/function-spec';

import { AccessPointDirectoryError } from '../errors.js';
import type { RuntimeNotes } from '../logs/logger.js';

/** The runtime's own user, or `undefined` where POSIX ids do not exist (Windows). */
function currentUser(): PosixIds | undefined {
  if (typeof process.getuid !== 'function' || typeof process.getgid !== 'function') return undefined;
  return { uid: process.getuid(), gid: process.getgid() };
}

/**
 * EFS access points as local directories: `<efsRoot><rootPath>`, created on first use with the
 * declared owner and permissions, as EFS creates an access point's root directory on first mount.
 * As root, environments run as each access point's POSIX user, so a permission error looks
 * as it does on AWS; as anyone else they run as that user, with one warning.
 */
export class AccessPointDirectories {
  /** Absolute. */
  readonly efsRoot: string;
  readonly #notes: RuntimeNotes;
  readonly #user = currentUser();
  readonly #created = new Map<string, Promise<string>>();

  constructor(efsRoot: string, notes: RuntimeNotes) {
    this.efsRoot = resolve(efsRoot);
    this.#notes = notes;
  }

  /** Whether environments take on the access points' users (the runtime runs as root). */
  get enforcesUsers(): boolean {
    return this.#user?.uid === 0;
  }

  /** The user an environment mounting `accessPoint` runs as; `undefined` for the runtime's own. */
  userFor(accessPoint: AccessPointDefinition | undefined): PosixIds | undefined {
    if (accessPoint === undefined || !this.enforcesUsers) return undefined;
    return { uid: accessPoint.posixUser.uid, gid: accessPoint.posixUser.gid };
  }

  /**
   * Creates the EFS root and checks, before anything is served, that each access point's user can
   * reach it: otherwise every first request would fail with a confusing EACCES.
   * @throws {AccessPointDirectoryError} naming the directory that blocks and what to do.
   */
  async prepare(accessPoints: readonly AccessPointDefinition[]): Promise<void> {
    try {
      await mkdir(this.efsRoot, { recursive: true, mode: 0o755 });
    } catch (error) {
      throw new AccessPointDirectoryError(
        this.efsRoot,
        `Cannot create the EFS root ${this.efsRoot} (${(error as NodeJS.ErrnoException).code ?? String(error)}): choose a writable directory (--efs-root).`,
        { cause: error },
      );
    }
    if (!this.enforcesUsers) {
      const user = this.#user;
      const others = accessPoints.filter(
        (accessPoint) => user === undefined || accessPoint.posixUser.uid !== user.uid || accessPoint.posixUser.gid !== user.gid,
      );
      if (others.length > 0) {
        this.#notes.once(
          'not-root',
          `not running as root: environments run as ${user === undefined ? 'the current user' : `uid ${user.uid} gid ${user.gid}`}, ` +
            `not as the access points' users (${others.map((ap) => `${ap.name} ${ap.posixUser.uid}:${ap.posixUser.gid}`).join(', ')}), ` +
            'so permission errors will not look as they do on AWS. Run as root (a container) for that.',
        );
      }
      return;
    }
    for (const accessPoint of accessPoints) await this.#checkReachable(accessPoint);
  }

  /** The access point's directory, created (once) if missing. Safe to call concurrently. */
  ensure(accessPoint: AccessPointDefinition): Promise<string> {
    let created = this.#created.get(accessPoint.name);
    if (created === undefined) {
      created = this.#create(accessPoint);
      this.#created.set(accessPoint.name, created);
      // A failure is retried on the next use rather than remembered.
      created.catch(() => this.#created.delete(accessPoint.name));
    }
    return created;
  }

  async #create(accessPoint: AccessPointDefinition): Promise<string> {
    const directory = localAccessPointDir(this.efsRoot, accessPoint);
    const mode = Number.parseInt(accessPoint.permissions, 8);
    let current = this.efsRoot;
    for (const segment of relative(this.efsRoot, directory).split(sep)) {
      current = join(current, segment);
      try {
        await mkdir(current, { mode });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw new AccessPointDirectoryError(
          current,
          `Cannot create ${current} for access point "${accessPoint.name}" (${(error as NodeJS.ErrnoException).code ?? String(error)}): check the permissions of ${dirname(current)}.`,
          { cause: error },
        );
      }
      // mkdir's mode passes through the umask: set it exactly, as EFS creation info does.
      await chmod(current, mode);
      if (this.enforcesUsers) await chown(current, accessPoint.owner.uid, accessPoint.owner.gid);
    }
    await this.#noteIfDifferent(accessPoint, directory, mode);
    return directory;
  }

  // EFS leaves an existing root directory as it is; so does the runtime, but says so.
  async #noteIfDifferent(accessPoint: AccessPointDefinition, directory: string, mode: number): Promise<void> {
    const stats = await stat(directory);
    const ownerDiffers =
      this.enforcesUsers && (stats.uid !== accessPoint.owner.uid || stats.gid !== accessPoint.owner.gid);
    if (!ownerDiffers && (stats.mode & 0o7777) === mode) return;
    this.#notes.once(
      `differs:${accessPoint.name}`,
      `access point "${accessPoint.name}": ${directory} already exists with owner ${stats.uid}:${stats.gid} mode ` +
        `${(stats.mode & 0o7777).toString(8)}, declared ${accessPoint.owner.uid}:${accessPoint.owner.gid} ${accessPoint.permissions}. ` +
        'It is left as it is (as EFS does); delete it to have it created as declared.',
    );
  }

  async #checkReachable(accessPoint: AccessPointDefinition): Promise<void> {
    const { uid, gid } = accessPoint.posixUser;
    let directory = this.efsRoot;
    const chain: string[] = [];
    for (;;) {
      chain.unshift(directory);
      const parent = dirname(directory);
      if (parent === directory) break;
      directory = parent;
    }
    for (const path of chain) {
      const stats = await stat(path);
      const mode = stats.mode;
      const searchable =
        uid === 0 ||
        (stats.uid === uid ? (mode & 0o100) !== 0 : stats.gid === gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0);
      if (searchable) continue;
      throw new AccessPointDirectoryError(
        path,
        `Access point "${accessPoint.name}": its user (uid ${uid}, gid ${gid}) cannot reach the EFS root ${this.efsRoot}: ` +
          `${path} (owner ${stats.uid}:${stats.gid}, mode ${(mode & 0o7777).toString(8)}) may not be entered by that user. ` +
          `Environments run as the access point's user, as on AWS: use an EFS root whose parent directories others may enter, ` +
          `or allow it (chmod o+x ${path}).`,
      );
    }
  }
}
