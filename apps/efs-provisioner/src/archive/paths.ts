// Which paths and symlink targets a release may contain. Both the writer and the reader apply
// these rules, so an archive the writer produced is always one the reader accepts.

/**
 * Why `path` (relative, `/`-separated, as stored in the archive) cannot name an entry, or
 * undefined when it can. Refused: absolute paths, `.`/`..`/empty segments (after one leading
 * `./`), control characters and backslashes.
 */
export function checkEntryPath(path: string): string | undefined {
  if (path === '') return 'the path is empty';
  if (path.startsWith('/')) return 'it is an absolute path';
  if (hasControlOrBackslash(path)) return 'it contains a control character or a backslash';
  for (const segment of path.split('/')) {
    if (segment === '..') return 'it contains ".."';
    if (segment === '' || segment === '.') return 'it has an empty or "." segment';
    if (Buffer.byteLength(segment) > 255) return 'a path segment is longer than 255 bytes';
  }
  return undefined;
}

/**
 * Why a symlink at `entryPath` pointing at `target` could lead outside the release, or undefined
 * when it cannot. Accepted: a relative target made of leading `..` segments followed by plain
 * names, whose `..` segments do not climb above the release. Because every `..` then walks up
 * real directories (an entry's ancestors are never symlinks) and every later segment names
 * something that itself stays inside, the kernel resolves the link inside the release too;
 * `a/../b` forms are refused because `a` could be a symlink.
 */
export function checkLinkTarget(entryPath: string, target: string): string | undefined {
  if (target === '') return 'its target is empty';
  if (target.startsWith('/')) return `its target ${target} is an absolute path`;
  if (hasControlOrBackslash(target)) return 'its target contains a control character or a backslash';
  const segments = target.split('/');
  let ups = 0;
  while (segments[ups] === '..') ups++;
  for (const segment of segments.slice(ups)) {
    if (segment === '' || segment === '.' || segment === '..')
      return `its target ${target} has a ".", ".." or empty segment after its start`;
  }
  const depth = entryPath.split('/').length - 1;
  if (ups > depth) return `its target ${target} leads outside the release`;
  return undefined;
}

function hasControlOrBackslash(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f || code === 0x5c) return true;
  }
  return false;
}
