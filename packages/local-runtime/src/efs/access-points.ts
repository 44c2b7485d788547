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

  /**
   * The user an environment mounting `accessPoint` and running the code at `codePath` runs as;
   * `undefined` for the runtime's own (not root, no access point, or that user can't reach them).
   */
  async userFor(accessPoint: AccessPointDefinition | undefined, codePath: string): Promise<PosixIds | undefined> {
    if (accessPoint === undefined || !this.enforcesUsers) return undefined;
    if (!(await this.#canTakeOnUser(accessPoint, codePath))) return undefined;
    return { uid: accessPoint.posixUser.uid, gid: accessPoint.posixUser.gid };
  }

  /**
   * Creates the EFS root, and warns once when environments cannot take on the access points' users.
   * @throws {AccessPointDirectoryError} when the EFS root cannot be created.
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
    }
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
    const ownerDiffers = this.enforcesUsers && (stats.uid !== accessPoint.owner.uid || stats.gid !== accessPoint.owner.gid);
    if (!ownerDiffers && (stats.mode & 0o7777) === mode) return;
    this.#notes.once(
      `differs:${accessPoint.name}`,
      `access point "${accessPoint.name}": ${directory} already exists with owner ${stats.uid}:${stats.gid} mode ` +
        `${(stats.mode & 0o7777).toString(8)}, declared ${accessPoint.owner.uid}:${accessPoint.owner.gid} ${accessPoint.permissions}. ` +
        'It is left as it is (as EFS does); delete it to have it created as declared.',
    );
  }

  /**
   * As root, an environment takes on its access point's user only where that user can reach the
   * EFS root, the function's code and Node.js itself — on AWS all three always can. A checkout or
   * a Node.js under a private directory (a 0700 home or temp dir, nvm in a home) can't be entered
   * by uid 1001; then the function runs as the runtime's own user, with one warning saying why and
   * how to get AWS's behaviour back.
   */
  async #canTakeOnUser(accessPoint: AccessPointDefinition, codePath: string): Promise<boolean> {
    const ids = accessPoint.posixUser;
    for (const [what, path] of [
      ['the EFS root', this.efsRoot],
      ['the function code', codePath],
      ['Node.js', process.execPath],
    ] as const) {
      const blocked = await firstBlockedDirectory(path, ids);
      if (blocked === undefined) continue;
      this.#notes.once(
        `unreachable:${accessPoint.name}:${what}`,
        `access point "${accessPoint.name}": its user (uid ${ids.uid}, gid ${ids.gid}) cannot reach ${what} (${path}): ` +
          `${blocked} may not be entered by that user. Environments using it run as the runtime's own user, so permission ` +
          `errors will not look as they do on AWS; allow it (chmod o+x ${blocked}) or move it to get that back.`,
      );
      return false;
    }
    return true;
  }
}

/** The first directory on the way to `path` that `ids` may not enter (no search permission). */
async function firstBlockedDirectory(path: string, ids: PosixIds): Promise<string | undefined> {
  if (ids.uid === 0) return undefined;
  const chain: string[] = [];
  for (let directory = dirname(resolve(path)); ; directory = dirname(directory)) {
    chain.unshift(directory);
    if (dirname(directory) === directory) break;
  }
  for (const directory of chain) {
    let stats;
    try {
      stats = await stat(directory);
    } catch {
      return undefined; // not there yet (created later): nothing blocks
    }
    const mode = stats.mode;
    const searchable = stats.uid === ids.uid ? (mode & 0o100) !== 0 : stats.gid === ids.gid ? (mode & 0o010) !== 0 : (mode & 0o001) !== 0;
    if (!searchable) return directory;
  }
  return undefined;
}
