import { LIMITS } from './constants.js';
import type { IssueList } from './internal/checks.js';
import { collectIssues, checkInteger, checkKnownKeys, childPath, deepFreeze, isRecord, optional, subjectOf } from './internal/checks.js';
import type { AccessPointDefinition, AccessPointSpec, PosixIds, ValidationResult } from './types.js';

const ACCESS_POINT_KEYS = ['name', 'rootPath', 'owner', 'permissions', 'posixUser'] as const;
const ACCESS_POINT_ALIASES = {
  path: 'rootPath',
  root: 'rootPath',
  rootDirectory: 'rootPath',
  rootDir: 'rootPath',
  creationInfo: 'owner',
  uid: 'owner',
  gid: 'owner',
  mode: 'permissions',
  perms: 'permissions',
  permission: 'permissions',
  user: 'posixUser',
  posix_user: 'posixUser',
};
const POSIX_KEYS = ['uid', 'gid'] as const;
const POSIX_ALIASES = { userId: 'uid', groupId: 'gid', ownerUid: 'uid', ownerGid: 'gid', user: 'uid', group: 'gid' };

const NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
// Stricter than EFS (which allows most printable characters) so that `./.efs/<rootPath>` is a
// portable local directory; EFS additionally refuses segments starting with ".".
const ROOT_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const PERMISSIONS = /^[0-7]{3,4}$/;

/**
 * Validates an access point declaration (from TypeScript or plain JavaScript) without throwing.
 * @example
 * const result = validateAccessPoint(JSON.parse(text));
 * if (!result.ok) console.error(result.error.message);
 */
export function validateAccessPoint(spec: unknown): ValidationResult<AccessPointDefinition> {
  return collectIssues(subjectOf('Access point', spec), (issues) => checkAccessPoint(spec, '', issues));
}

/**
 * Declares an EFS access point: validates it, fills the defaults and returns it frozen.
 * @throws {InvalidSpecError} listing every rule the declaration breaks.
 * @example
 * export const accessPoint = defineAccessPoint({
 *   name: 'message',
 *   rootPath: '/message',
 *   owner: { uid: 1001, gid: 1001 },
 *   permissions: '750',
 * }); // posixUser defaults to the owner
 */
export function defineAccessPoint(spec: AccessPointSpec): AccessPointDefinition {
  const result = validateAccessPoint(spec);
  if (!result.ok) throw result.error;
  return result.value;
}

/** Records the problems of `spec` under `base`; returns the frozen definition when there are none. */
export function checkAccessPoint(spec: unknown, base: string, issues: IssueList): AccessPointDefinition | undefined {
  const before = issues.length;
  if (!isRecord(spec)) {
    issues.invalid(
      base,
      spec,
      `an access point must be an object like { name: 'message', rootPath: '/message', owner: { uid: 1001, gid: 1001 }, permissions: '750' }`,
    );
    return undefined;
  }
  checkKnownKeys(spec, ACCESS_POINT_KEYS, base, issues, ACCESS_POINT_ALIASES);

  const name = checkAccessPointName(spec['name'], childPath(base, 'name'), issues);
  const rootPath = checkRootPath(spec['rootPath'], childPath(base, 'rootPath'), issues);
  const owner = checkPosixIds(spec['owner'], childPath(base, 'owner'), issues, true);
  const permissions = checkPermissions(spec['permissions'], childPath(base, 'permissions'), issues);
  const posixUserValue = optional(spec, 'posixUser');
  const posixUser = posixUserValue === undefined ? owner : checkPosixIds(posixUserValue, childPath(base, 'posixUser'), issues, false);

  if (
    issues.length > before ||
    name === undefined ||
    rootPath === undefined ||
    owner === undefined ||
    permissions === undefined ||
    posixUser === undefined
  ) {
    return undefined;
  }
  return deepFreeze({ name, rootPath, owner, permissions, posixUser: { ...posixUser } });
}

function checkAccessPointName(value: unknown, path: string, issues: IssueList): string | undefined {
  const rule = `an access point name is a letter, then letters, digits, "-" or "_", ${LIMITS.accessPointNameMaxLength} characters at most (example: "message")`;
  if (value === undefined) {
    issues.missing(path, rule);
    return undefined;
  }
  if (typeof value !== 'string' || !NAME.test(value) || value.length > LIMITS.accessPointNameMaxLength) {
    issues.invalid(path, value, rule);
    return undefined;
  }
  return value;
}

function checkRootPath(value: unknown, path: string, issues: IssueList): string | undefined {
  const example = '(example: "/message")';
  if (value === undefined) {
    issues.missing(path, `give the directory the access point exposes ${example}`);
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.invalid(path, value, `a root path must be a string ${example}`);
    return undefined;
  }
  if (!value.startsWith('/')) {
    issues.invalid(path, value, `a root path must be absolute (example: "/${value}")`);
    return undefined;
  }
  if (value === '/') {
    issues.invalid(
      path,
      value,
      `the file system root is refused: an access point on "/" would expose every other access point's files; use a directory of its own ${example}`,
    );
    return undefined;
  }
  if (value.endsWith('/')) {
    issues.invalid(path, value, `a root path must not end with "/" (example: "${value.replace(/\/+$/, '')}")`);
    return undefined;
  }
  const segments = value.slice(1).split('/');
  if (segments.some((segment) => segment === '' || segment === '.' || segment === '..')) {
    issues.invalid(path, value, `a root path must be normalized: no empty, "." or ".." segments ${example}`);
    return undefined;
  }
  const bad = segments.find((segment) => !ROOT_SEGMENT.test(segment));
  if (bad !== undefined) {
    issues.invalid(path, value, `segment "${bad}" may only contain letters, digits, "-", "_" and ".", and must not start with "."`);
    return undefined;
  }
  if (segments.length > LIMITS.rootPathMaxDepth) {
    issues.invalid(path, value, `EFS allows at most ${LIMITS.rootPathMaxDepth} directory levels in a root path`);
    return undefined;
  }
  if (value.length > LIMITS.rootPathMaxLength) {
    issues.invalid(path, value, `EFS allows at most ${LIMITS.rootPathMaxLength} characters in a root path`);
    return undefined;
  }
  return value;
}

function checkPosixIds(value: unknown, path: string, issues: IssueList, required: boolean): PosixIds | undefined {
  const example = '(example: { uid: 1001, gid: 1001 })';
  if (value === undefined && required) {
    issues.missing(path, `give the owner's POSIX ids ${example}`);
    return undefined;
  }
  if (!isRecord(value)) {
    issues.invalid(path, value, `must be an object with integer uid and gid ${example}`);
    return undefined;
  }
  checkKnownKeys(value, POSIX_KEYS, path, issues, POSIX_ALIASES);
  const ids: Partial<Record<'uid' | 'gid', number>> = {};
  let ok = true;
  for (const key of POSIX_KEYS) {
    const idPath = childPath(path, key);
    const rule = `a POSIX id must be an integer from 0 to ${LIMITS.posixIdMax}`;
    if (value[key] === undefined) {
      issues.missing(idPath, rule);
      ok = false;
      continue;
    }
    const id = checkInteger(value[key], idPath, { min: 0, max: LIMITS.posixIdMax }, rule, issues);
    if (id === undefined) ok = false;
    else ids[key] = id;
  }
  if (!ok || ids.uid === undefined || ids.gid === undefined) return undefined;
  return { uid: ids.uid, gid: ids.gid };
}

function checkPermissions(value: unknown, path: string, issues: IssueList): string | undefined {
  const rule = 'permissions are 3 or 4 octal digits (0-7) in a string (example: "750")';
  if (value === undefined) {
    issues.missing(path, rule);
    return undefined;
  }
  if (typeof value === 'number') {
    issues.invalid(path, value, `${rule}; a number would be read as decimal, so write it in quotes`);
    return undefined;
  }
  if (typeof value !== 'string' || !PERMISSIONS.test(value)) {
    issues.invalid(path, value, rule);
    return undefined;
  }
  // "0750" and "750" are the same mode; one spelling lets definitions be compared as data.
  return value.length === 4 && value.startsWith('0') ? value.slice(1) : value;
}
