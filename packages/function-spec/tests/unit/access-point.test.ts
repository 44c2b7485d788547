import { describe, expect, it } from 'vitest';

import {
  InvalidSpecError,
  defineAccessPoint,
  validateAccessPoint,
  type AccessPointDefinition,
  type AccessPointSpec,
} from '../../src/index.js';
import { messageAccessPointSpec, withChanges } from './fixtures.js';

describe('defineAccessPoint', () => {
  it('keeps the post’s values and defaults posixUser to the owner', () => {
    expect(defineAccessPoint(messageAccessPointSpec)).toEqual({
      name: 'message',
      rootPath: '/message',
      owner: { uid: 1001, gid: 1001 },
      permissions: '750',
      posixUser: { uid: 1001, gid: 1001 },
    } satisfies AccessPointDefinition);
  });

  it('returns a deeply frozen definition', () => {
    const accessPoint = defineAccessPoint(messageAccessPointSpec);
    expect(Object.isFrozen(accessPoint)).toBe(true);
    expect(Object.isFrozen(accessPoint.owner)).toBe(true);
    expect(Object.isFrozen(accessPoint.posixUser)).toBe(true);
  });

  it('writes a 4-digit mode with a leading 0 as 3 digits and keeps special bits', () => {
    expect(defineAccessPoint({ ...messageAccessPointSpec, permissions: '0750' }).permissions).toBe('750');
    expect(defineAccessPoint({ ...messageAccessPointSpec, permissions: '1777' }).permissions).toBe('1777');
  });

  it.each<[string, AccessPointSpec]>([
    ['a 4-level root path', { ...messageAccessPointSpec, rootPath: '/a/b/c/d' }],
    ['dots inside a segment', { ...messageAccessPointSpec, rootPath: '/models/v1.2' }],
    ['uid and gid 0 and 4294967295', { ...messageAccessPointSpec, owner: { uid: 0, gid: 4294967295 } }],
    ['a posix user other than the owner', { ...messageAccessPointSpec, posixUser: { uid: 1002, gid: 1002 } }],
    ['mode 000', { ...messageAccessPointSpec, permissions: '000' }],
  ])('accepts %s', (_label, spec) => {
    expect(validateAccessPoint(spec).ok).toBe(true);
  });

  it('accepts its own result again and gives an equal definition', () => {
    const once = defineAccessPoint(messageAccessPointSpec);
    expect(defineAccessPoint(once)).toEqual(once);
  });
});

describe('validateAccessPoint refuses', () => {
  const base = messageAccessPointSpec;
  const bad: [string, unknown, string, string][] = [
    ['a missing name', withChanges(base, { name: undefined }), 'name is missing', 'an access point name is a letter'],
    ['a name starting with a digit', withChanges(base, { name: '1message' }), 'name "1message"', 'an access point name is a letter'],
    ['a missing root path', withChanges(base, { rootPath: undefined }), 'rootPath is missing', 'the directory the access point exposes'],
    ['the file system root', withChanges(base, { rootPath: '/' }), 'rootPath "/"', 'the file system root is refused'],
    ['a relative root path', withChanges(base, { rootPath: 'message' }), 'rootPath "message"', 'must be absolute (example: "/message")'],
    ['a trailing slash', withChanges(base, { rootPath: '/message/' }), 'rootPath', 'must not end with "/" (example: "/message")'],
    ['a ".." segment', withChanges(base, { rootPath: '/message/../etc' }), 'rootPath', 'no empty, "." or ".." segments'],
    ['an empty segment', withChanges(base, { rootPath: '/a//b' }), 'rootPath', 'no empty, "." or ".." segments'],
    ['a hidden directory', withChanges(base, { rootPath: '/.secret' }), 'rootPath', 'must not start with "."'],
    ['a space in a segment', withChanges(base, { rootPath: '/my files' }), 'rootPath', 'may only contain letters, digits'],
    ['5 levels', withChanges(base, { rootPath: '/a/b/c/d/e' }), 'rootPath', 'at most 4 directory levels'],
    ['over 100 characters', withChanges(base, { rootPath: `/${'a'.repeat(100)}` }), 'rootPath', 'at most 100 characters'],
    ['a missing owner', withChanges(base, { owner: undefined }), 'owner is missing', "the owner's POSIX ids"],
    ['an owner without gid', withChanges(base, { owner: { uid: 1001 } }), 'owner.gid is missing', 'integer from 0 to 4294967295'],
    ['a negative uid', withChanges(base, { owner: { uid: -1, gid: 1001 } }), 'owner.uid -1', 'integer from 0 to 4294967295'],
    [
      'a uid too large',
      withChanges(base, { owner: { uid: 4294967296, gid: 1001 } }),
      'owner.uid 4294967296',
      'integer from 0 to 4294967295',
    ],
    ['a fractional gid', withChanges(base, { owner: { uid: 1001, gid: 1.5 } }), 'owner.gid 1.5', 'integer from 0 to 4294967295'],
    ['a uid as a string', withChanges(base, { owner: { uid: '1001', gid: 1001 } }), 'owner.uid "1001"', 'without quotes'],
    [
      'a typo in owner',
      withChanges(base, { owner: { uid: 1001, gid: 1001, userId: 1 } }),
      'owner.userId is not a known field',
      'did you mean "uid"?',
    ],
    ['permissions as a number', withChanges(base, { permissions: 750 }), 'permissions 750', 'a number would be read as decimal'],
    ['a digit 8', withChanges(base, { permissions: '780' }), 'permissions "780"', '3 or 4 octal digits'],
    ['two digits', withChanges(base, { permissions: '75' }), 'permissions "75"', '3 or 4 octal digits'],
    ['symbolic permissions', withChanges(base, { permissions: 'rwxr-x---' }), 'permissions', '3 or 4 octal digits'],
    ['a posix user that is not an object', withChanges(base, { posixUser: 1001 }), 'posixUser 1001', 'integer uid and gid'],
    ['the alias "path"', withChanges(base, { path: '/x' }), 'path is not a known field', 'did you mean "rootPath"?'],
  ];

  it.each(bad)('%s, naming the field and the rule', (_label, spec, path, rule) => {
    const result = validateAccessPoint(spec);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBeInstanceOf(InvalidSpecError);
    expect(result.error.message).toContain(path);
    expect(result.error.message).toContain(rule);
  });

  it('throws from defineAccessPoint with the access point named in the message', () => {
    expect(() => defineAccessPoint({ ...messageAccessPointSpec, rootPath: '/' })).toThrow(
      /^Access point "message": rootPath "\/" is invalid: /,
    );
  });
});
