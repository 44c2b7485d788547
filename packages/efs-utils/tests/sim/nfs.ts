/**
 * A simulated NFS server and the Linux NFS client behaviour that matters to the lock protocol.
 *
 * Server: one namespace of inodes (directories, files, symlinks) addressed by (directory
 * inode, name), as NFS requests are. RENAME is atomic, replaces an empty directory and fails
 * with ENOTEMPTY on a non-empty one; an inode that lost its last name is gone (ESTALE).
 *
 * Client (one per simulated host): lookup cache with expiry, positive and negative (a stale
 * entry keeps resolving a name to an inode that moved, or hides a new one); directory listings
 * cached with expiry; close-to-open (open revalidates the last name and the size); O_APPEND
 * writes placed at the size this client saw at open and sent at close as a WRITE with that
 * explicit offset. Each client updates its caches for its own operations only.
 */

export class SimError extends Error {
  readonly code: string;
  constructor(code: string, what: string) {
    super(`${code}: ${what}`);
    this.code = code;
  }
}

const fail = (code: string, what: string): never => {
  throw new SimError(code, what);
};

type Node =
  | { ino: number; kind: 'dir'; entries: Map<string, number>; mtime: number; mode: number }
  | { ino: number; kind: 'file'; data: Buffer; mtime: number; mode: number }
  | { ino: number; kind: 'symlink'; target: string; mtime: number; mode: number };

export interface Attr {
  readonly ino: number;
  readonly kind: 'dir' | 'file' | 'symlink';
  readonly size: number;
  readonly mtimeMs: number;
  readonly mode: number;
}

const ROOT_INO = 1;

export class Server {
  readonly #nodes = new Map<number, Node>();
  #nextIno = ROOT_INO + 1;
  /** Server wall clock, set by the world before each request. */
  now = 0;
  /** Bumped whenever a file's data changes: the world re-checks data invariants then. */
  dataVersion = 0;

  constructor() {
    this.#nodes.set(ROOT_INO, { ino: ROOT_INO, kind: 'dir', entries: new Map(), mtime: 0, mode: 0o755 });
  }

  #node(ino: number): Node {
    return this.#nodes.get(ino) ?? fail('ESTALE', `inode ${ino}`);
  }

  #dir(ino: number): Extract<Node, { kind: 'dir' }> {
    const node = this.#node(ino);
    if (node.kind !== 'dir') fail('ENOTDIR', `inode ${ino}`);
    return node as Extract<Node, { kind: 'dir' }>;
  }

  lookup(dir: number, name: string): number {
    return this.#dir(dir).entries.get(name) ?? fail('ENOENT', name);
  }

  getattr(ino: number): Attr {
    const node = this.#node(ino);
    const size = node.kind === 'file' ? node.data.length : node.kind === 'dir' ? node.entries.size : node.target.length;
    return { ino, kind: node.kind, size, mtimeMs: node.mtime, mode: node.mode };
  }

  readdir(dir: number): string[] {
    return [...this.#dir(dir).entries.keys()];
  }

  readlink(ino: number): string {
    const node = this.#node(ino);
    return node.kind === 'symlink' ? node.target : fail('EINVAL', 'not a symlink');
  }

  #add(dir: number, name: string, node: Node): number {
    const parent = this.#dir(dir);
    if (parent.entries.has(name)) fail('EEXIST', name);
    this.#nodes.set(node.ino, node);
    parent.entries.set(name, node.ino);
    parent.mtime = this.now;
    return node.ino;
  }

  mkdir(dir: number, name: string): number {
    return this.#add(dir, name, { ino: this.#nextIno++, kind: 'dir', entries: new Map(), mtime: this.now, mode: 0o755 });
  }

  symlink(dir: number, name: string, target: string): number {
    return this.#add(dir, name, { ino: this.#nextIno++, kind: 'symlink', target, mtime: this.now, mode: 0o777 });
  }

  /** CREATE; `exclusive` fails with EEXIST when the name exists. Returns the file's inode. */
  create(dir: number, name: string, exclusive: boolean, mode: number): number {
    const existing = this.#dir(dir).entries.get(name);
    if (existing !== undefined) {
      if (exclusive) fail('EEXIST', name);
      if (this.#node(existing).kind === 'dir') fail('EISDIR', name);
      return existing;
    }
    return this.#add(dir, name, { ino: this.#nextIno++, kind: 'file', data: Buffer.alloc(0), mtime: this.now, mode });
  }

  #drop(ino: number): void {
    const node = this.#nodes.get(ino);
    if (node === undefined) return;
    this.#nodes.delete(ino);
    if (node.kind === 'dir') for (const child of node.entries.values()) this.#drop(child);
  }

  unlink(dir: number, name: string): void {
    const parent = this.#dir(dir);
    const ino = parent.entries.get(name) ?? fail('ENOENT', name);
    if (this.#node(ino).kind === 'dir') fail('EISDIR', name);
    parent.entries.delete(name);
    parent.mtime = this.now;
    this.#drop(ino);
  }

  rmdir(dir: number, name: string): void {
    const parent = this.#dir(dir);
    const ino = parent.entries.get(name) ?? fail('ENOENT', name);
    const node = this.#node(ino);
    if (node.kind !== 'dir') fail('ENOTDIR', name);
    if ((node as Extract<Node, { kind: 'dir' }>).entries.size > 0) fail('ENOTEMPTY', name);
    parent.entries.delete(name);
    parent.mtime = this.now;
    this.#drop(ino);
  }

  #isAncestor(ancestor: number, dir: number): boolean {
    if (ancestor === dir) return true;
    const node = this.#nodes.get(ancestor);
    if (node?.kind !== 'dir') return false;
    for (const child of node.entries.values()) if (this.#isAncestor(child, dir)) return true;
    return false;
  }

  rename(fromDir: number, fromName: string, toDir: number, toName: string): void {
    const source = this.#dir(fromDir);
    const target = this.#dir(toDir);
    const ino = source.entries.get(fromName) ?? fail('ENOENT', fromName);
    const node = this.#node(ino);
    const existing = target.entries.get(toName);
    if (existing === ino) return;
    if (node.kind === 'dir' && this.#isAncestor(ino, toDir)) fail('EINVAL', `${fromName} into itself`);
    if (existing !== undefined) {
      const victim = this.#node(existing);
      if (node.kind === 'dir' && victim.kind !== 'dir') fail('ENOTDIR', toName);
      if (node.kind !== 'dir' && victim.kind === 'dir') fail('EISDIR', toName);
      if (victim.kind === 'dir' && victim.entries.size > 0) fail('ENOTEMPTY', toName);
      this.#drop(existing);
    }
    source.entries.delete(fromName);
    target.entries.set(toName, ino);
    source.mtime = this.now;
    target.mtime = this.now;
  }

  write(ino: number, offset: number, data: Buffer): void {
    const node = this.#node(ino);
    if (node.kind !== 'file') fail('EISDIR', `inode ${ino}`);
    const file = node as Extract<Node, { kind: 'file' }>;
    const end = offset + data.length;
    const next = Buffer.alloc(Math.max(end, file.data.length));
    file.data.copy(next);
    data.copy(next, offset);
    file.data = next;
    file.mtime = this.now;
    this.dataVersion += 1;
  }

  read(ino: number): Buffer {
    const node = this.#node(ino);
    if (node.kind !== 'file') fail('EISDIR', `inode ${ino}`);
    return (node as Extract<Node, { kind: 'file' }>).data;
  }

  chmod(ino: number, mode: number): void {
    this.#node(ino).mode = mode;
  }

  /** The inode a path names right now, or undefined (for the invariants, never cached). */
  resolveFresh(path: string): number | undefined {
    let ino = ROOT_INO;
    for (const part of path.split('/').filter(Boolean)) {
      const node = this.#nodes.get(ino);
      if (node?.kind !== 'dir') return undefined;
      const next = node.entries.get(part);
      if (next === undefined) return undefined;
      ino = next;
    }
    return ino;
  }

  /** A file's content by path right now, for the invariants. */
  contentOf(path: string): Buffer | undefined {
    const ino = this.resolveFresh(path);
    const node = ino === undefined ? undefined : this.#nodes.get(ino);
    return node?.kind === 'file' ? node.data : undefined;
  }

  /** Names in a directory by path right now, for the invariants and traces. */
  listFresh(path: string): string[] | undefined {
    const ino = this.resolveFresh(path);
    const node = ino === undefined ? undefined : this.#nodes.get(ino);
    return node?.kind === 'dir' ? [...node.entries.keys()] : undefined;
  }
}

/** How a client resolves names: cache lifetimes in simulated ms. */
export interface CachePolicy {
  /** Lifetime of a cached name → inode (or "no such name") entry. */
  readonly lookupTtlMs: number;
  /** Lifetime of a cached directory listing. */
  readonly listingTtlMs: number;
}

interface Cached<T> {
  readonly value: T;
  readonly expires: number;
}

/** The client's view of an open file: O_APPEND data buffered at the offset seen at open. */
export interface OpenFile {
  readonly ino: number;
  position: number;
  readonly append: boolean;
  pending: { offset: number; data: Buffer }[];
}

/** The part of a request the client does before sending it: the names it resolves. */
export class Client {
  readonly #server: Server;
  readonly policy: CachePolicy;
  readonly #lookups = new Map<string, Cached<number>>(); // ino, 0 = negative
  readonly #listings = new Map<number, Cached<string[]>>();
  now = 0;

  constructor(server: Server, policy: CachePolicy) {
    this.#server = server;
    this.policy = policy;
  }

  /** Looks up one name, from the cache while it is fresh (unless `revalidate`). */
  lookup(dir: number, name: string, revalidate: boolean): number {
    const key = `${dir}/${name}`;
    const cached = this.#lookups.get(key);
    if (!revalidate && cached !== undefined && cached.expires > this.now) {
      if (cached.value === 0) fail('ENOENT', `${name} (cached)`);
      return cached.value;
    }
    try {
      const ino = this.#server.lookup(dir, name);
      this.#remember(dir, name, ino);
      return ino;
    } catch (error) {
      if (error instanceof SimError && error.code === 'ENOENT') this.#remember(dir, name, 0);
      throw error;
    }
  }

  #remember(dir: number, name: string, ino: number): void {
    this.#lookups.set(`${dir}/${name}`, { value: ino, expires: this.now + this.policy.lookupTtlMs });
  }

  /** Our own operation changed `name` in `dir`: the kernel updates its dentry at once. */
  changed(dir: number, name: string, ino: number): void {
    this.#remember(dir, name, ino);
    this.#listings.delete(dir);
  }

  /** Forgets what this client cached (after ESTALE the kernel retries with fresh lookups). */
  forget(): void {
    this.#lookups.clear();
    this.#listings.clear();
  }

  /** Resolves every component of `path`; the last one only when `last`. */
  resolve(path: string, last: boolean, revalidateLast: boolean): { dir: number; name: string; ino: number } {
    const parts = path.split('/').filter(Boolean);
    const name = parts.pop() ?? fail('EINVAL', 'root');
    let dir = ROOT_INO;
    for (const part of parts) dir = this.lookup(dir, part, false);
    return { dir, name, ino: last ? this.lookup(dir, name, revalidateLast) : 0 };
  }

  readdir(dir: number): string[] {
    const cached = this.#listings.get(dir);
    if (cached !== undefined && cached.expires > this.now) return cached.value;
    const names = this.#server.readdir(dir);
    this.#listings.set(dir, { value: names, expires: this.now + this.policy.listingTtlMs });
    return names;
  }
}
