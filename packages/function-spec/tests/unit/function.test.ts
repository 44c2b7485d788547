import { pathToFileURL } from 'node:url';

import { describe, expect, expectTypeOf, it } from 'vitest';

import {
  FunctionSpecError,
  nativePlatform,
  InvalidSpecError,
  defineFunction,
  validateFunction,
  type FileSystemDefinition,
  type FunctionDefinition,
  type FunctionSpec,
} from '../../src/index.js';
import { messageAccessPointSpec, messageWallSpec, withChanges } from './fixtures.js';

const ENTRY = '/srv/apps/message-wall/dist/handler.js';

function issuesOf(spec: unknown) {
  const result = validateFunction(spec);
  if (result.ok) throw new Error('expected the declaration to be refused');
  return result;
}

describe('defineFunction', () => {
  it('fills every default of a minimal declaration', () => {
    const definition = defineFunction({ name: 'tiny', entry: ENTRY });
    expect(definition).toEqual({
      name: 'tiny',
      entry: ENTRY,
      handlerExport: 'handler',
      runtime: 'nodejs22.x',
      architecture: 'x86_64',
      memoryMb: 128,
      timeoutSeconds: 3,
      routes: [],
      fileSystem: null,
      environment: {},
      reservedConcurrency: null,
      provisionedConcurrency: null,
      description: '',
      nativeModules: { packages: [], from: 'package' },
    } satisfies FunctionDefinition);
  });

  it('ships declared native modules in the package unless told to load them from the file system', () => {
    expect(defineFunction({ ...messageWallSpec, nativeModules: { packages: ['onnxruntime-node', '@img/colour'] } }).nativeModules).toEqual({
      packages: ['onnxruntime-node', '@img/colour'],
      from: 'package',
    });
    expect(defineFunction({ ...messageWallSpec, nativeModules: { packages: ['sharp'], from: 'file-system' } }).nativeModules).toEqual({
      packages: ['sharp'],
      from: 'file-system',
    });
    expect(defineFunction({ ...messageWallSpec, nativeModules: null }).nativeModules).toEqual({ packages: [], from: 'package' });
  });

  it('resolves the file system with readOnly false and the access point with posixUser = owner', () => {
    const definition = defineFunction(messageWallSpec);
    expect(definition.fileSystem).toEqual({
      accessPoint: {
        name: 'message',
        rootPath: '/message',
        owner: { uid: 1001, gid: 1001 },
        permissions: '750',
        posixUser: { uid: 1001, gid: 1001 },
      },
      mountPath: '/mnt/msg',
      readOnly: false,
    });
    expect(definition.reservedConcurrency).toBe(50);
    expect(definition.routes).toEqual(['ANY /message-wall', 'ANY /message-wall/{wall}']);
  });

  it('returns a deeply frozen definition', () => {
    const definition = defineFunction(messageWallSpec);
    expect(Object.isFrozen(definition)).toBe(true);
    expect(Object.isFrozen(definition.routes)).toBe(true);
    expect(Object.isFrozen(definition.environment)).toBe(true);
    expect(Object.isFrozen(definition.fileSystem)).toBe(true);
    expect(Object.isFrozen(definition.fileSystem?.accessPoint.owner)).toBe(true);
    expect(() => {
      (definition as { memoryMb: number }).memoryMb = 1024;
    }).toThrow(TypeError);
  });

  it('does not share objects with the declaration, so later edits to it change nothing', () => {
    const environment: Record<string, string> = { MODE: 'a' };
    const definition = defineFunction({ name: 'f', entry: ENTRY, environment });
    environment['MODE'] = 'b';
    expect(definition.environment).toEqual({ MODE: 'a' });
  });

  it('accepts its own result again and gives an equal definition', () => {
    const once = defineFunction(messageWallSpec);
    expect(defineFunction(once)).toEqual(once);
  });

  it.each([
    ['a file URL object', pathToFileURL(ENTRY)],
    ['a file: URL string', pathToFileURL(ENTRY).href],
    ['an absolute path', ENTRY],
    ['an absolute path with .. and //', '/srv/apps/message-wall/src/..//dist/./handler.js'],
  ])('stores the entry given as %s as a normalized absolute path', (_label, entry) => {
    expect(defineFunction({ name: 'f', entry }).entry).toBe(ENTRY);
  });

  it('treats null optional fields as not set', () => {
    const definition = defineFunction({ name: 'f', entry: ENTRY, fileSystem: null, reservedConcurrency: null });
    expect(definition.fileSystem).toBeNull();
    expect(definition.reservedConcurrency).toBeNull();
  });

  it.each<[string, FunctionSpec]>([
    ['greedy and root routes', { name: 'files', entry: ENTRY, routes: ['GET /', 'GET /files/{proxy+}', '$default'] }],
    ['ANY and GET on the same path', { name: 'f', entry: ENTRY, routes: ['ANY /x', 'GET /x'] }],
    ['a param and a greedy param on the same prefix', { name: 'f', entry: ENTRY, routes: ['GET /a/{id}', 'GET /a/{rest+}'] }],
    ['the largest memory and timeout', { name: 'f', entry: ENTRY, memoryMb: 10240, timeoutSeconds: 900 }],
    ['arm64 on nodejs24.x', { name: 'f', entry: ENTRY, architecture: 'arm64', runtime: 'nodejs24.x' }],
    ['reserved concurrency 0', { name: 'f', entry: ENTRY, reservedConcurrency: 0 }],
    ['provisioned equal to reserved', { name: 'f', entry: ENTRY, reservedConcurrency: 5, provisionedConcurrency: 5 }],
    ['provisioned without reserved', { name: 'f', entry: ENTRY, provisionedConcurrency: 2 }],
    [
      'a read-only mount',
      { name: 'f', entry: ENTRY, fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/a.b_c-1', readOnly: true } },
    ],
    ['a 64-character name', { name: 'a'.repeat(64), entry: ENTRY }],
    ['an .mjs entry and a custom export', { name: 'f', entry: '/srv/x/index.mjs', handlerExport: 'main' }],
    ['a 256-character description', { name: 'f', entry: ENTRY, description: 'd'.repeat(256) }],
  ])('accepts %s', (_label, spec) => {
    expect(validateFunction(spec).ok).toBe(true);
  });

  it('accepts an environment of exactly 4096 bytes as JSON and refuses one byte more', () => {
    // {"KEY":"<value>"} is 10 bytes around the value.
    const fits = { name: 'f', entry: ENTRY, environment: { KEY: 'v'.repeat(4086) } };
    expect(validateFunction(fits).ok).toBe(true);
    const tooBig = { name: 'f', entry: ENTRY, environment: { KEY: 'v'.repeat(4087) } };
    expect(issuesOf(tooBig).error.message).toMatch(/environment .* 4097 bytes as JSON and Lambda allows 4096/);
  });
});

describe('validateFunction refuses', () => {
  const base = messageWallSpec;
  // [what, declaration, field path, words of the rule]
  const bad: [string, unknown, string, string][] = [
    ['a missing name', withChanges(base, { name: undefined }), 'name', 'is missing: a function name is 1 to 64 characters'],
    ['a name with a space', withChanges(base, { name: 'message wall' }), 'name', 'letters, digits, "-" and "_"'],
    ['a 65-character name', withChanges(base, { name: 'a'.repeat(65) }), 'name', '1 to 64 characters'],
    ['a missing entry', withChanges(base, { entry: undefined }), 'entry', "new URL('./handler.js', import.meta.url)"],
    ['a relative entry', withChanges(base, { entry: './handler.js' }), 'entry', 'must be an absolute path or a file: URL'],
    ['an http entry', withChanges(base, { entry: 'https://example.com/handler.js' }), 'entry', 'only file: URLs'],
    [
      'a TypeScript entry',
      withChanges(base, { entry: '/srv/app/src/handler.ts' }),
      'entry',
      'must be a JavaScript module (.js, .mjs or .cjs)',
    ],
    ['a numeric entry', withChanges(base, { entry: 42 }), 'entry', 'must be a URL or a string'],
    ['a handler export that is a path', withChanges(base, { handlerExport: 'a.b' }), 'handlerExport', 'name of an export'],
    [
      'an unknown runtime',
      withChanges(base, { runtime: 'nodejs18.x' }),
      'runtime',
      'must be one of "nodejs20.x", "nodejs22.x", "nodejs24.x"',
    ],
    ['an unknown architecture', withChanges(base, { architecture: 'aarch64' }), 'architecture', 'must be one of "x86_64", "arm64"'],
    ['memory below 128', withChanges(base, { memoryMb: 64 }), 'memoryMb', 'from 128 to 10240'],
    ['memory above 10240', withChanges(base, { memoryMb: 10241 }), 'memoryMb', 'from 128 to 10240'],
    ['fractional memory', withChanges(base, { memoryMb: 256.5 }), 'memoryMb', 'whole number of MB'],
    ['NaN memory', withChanges(base, { memoryMb: Number.NaN }), 'memoryMb NaN', 'whole number of MB'],
    ['memory as a string', withChanges(base, { memoryMb: '256' }), 'memoryMb "256"', 'write it as a number, without quotes'],
    ['a timeout of 0', withChanges(base, { timeoutSeconds: 0 }), 'timeoutSeconds', 'from 1 to 900'],
    ['a timeout of 901', withChanges(base, { timeoutSeconds: 901 }), 'timeoutSeconds', 'from 1 to 900'],
    ['Infinity as timeout', withChanges(base, { timeoutSeconds: Number.POSITIVE_INFINITY }), 'timeoutSeconds', 'whole number of seconds'],
    ['routes that are a string', withChanges(base, { routes: 'GET /x' }), 'routes', 'must be an array of route keys'],
    [
      'a route path without "/"',
      withChanges(base, { routes: ['GET /ok', 'GET message-wall'] }),
      'routes[1] "GET message-wall"',
      'a route path must start with "/" (example: "GET /message-wall")',
    ],
    [
      'a route without method',
      withChanges(base, { routes: ['/message-wall'] }),
      'routes[0]',
      'needs a method before the path (example: "GET /message-wall")',
    ],
    ['a lower-case method', withChanges(base, { routes: ['get /x'] }), 'routes[0]', 'methods are upper case (example: "GET /x")'],
    ['an unknown method', withChanges(base, { routes: ['FETCH /x'] }), 'routes[0]', 'the method must be one of GET, POST'],
    ['a trailing slash', withChanges(base, { routes: ['GET /x/'] }), 'routes[0]', 'must not end with "/" (example: "GET /x")'],
    ['an empty segment', withChanges(base, { routes: ['GET /a//b'] }), 'routes[0]', 'empty segments'],
    [
      'a greedy param before the end',
      withChanges(base, { routes: ['GET /{proxy+}/x'] }),
      'routes[0]',
      'greedy path parameter {name+} must be the last segment',
    ],
    ['a duplicate param name', withChanges(base, { routes: ['GET /{id}/{id}'] }), 'routes[0]', 'is used twice'],
    ['a bad param name', withChanges(base, { routes: ['GET /{1id}'] }), 'routes[0]', 'a path parameter name is a letter'],
    ['a param inside a segment', withChanges(base, { routes: ['GET /files/{id}.json'] }), 'routes[0]', 'takes a whole segment'],
    ['a query string', withChanges(base, { routes: ['GET /x?a=1'] }), 'routes[0]', 'query string'],
    ['a ".." segment', withChanges(base, { routes: ['GET /a/../b'] }), 'routes[0]', 'must not contain ".." segments'],
    ['a route key that is not a string', withChanges(base, { routes: [7] }), 'routes[0] 7', 'a route key must be a string'],
    [
      'the same route twice',
      withChanges(base, { routes: ['GET /a/{x}', 'GET /a/{y}'] }),
      'routes[1] "GET /a/{y}"',
      'same route as routes[0] "GET /a/{x}"',
    ],
    ['$default in the wrong case', withChanges(base, { routes: ['$Default'] }), 'routes[0]', 'exactly as "$default"'],
    ['a file system that is a string', withChanges(base, { fileSystem: '/mnt/msg' }), 'fileSystem', 'must be an object like { accessPoint'],
    [
      'a file system without access point',
      withChanges(base, { fileSystem: { mountPath: '/mnt/msg' } }),
      'fileSystem.accessPoint is missing',
      'defineAccessPoint',
    ],
    [
      'a mount path outside /mnt',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/data/msg' } }),
      'fileSystem.mountPath "/data/msg"',
      'one level below /mnt',
    ],
    [
      'a mount path two levels below /mnt',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/a/b' } }),
      'fileSystem.mountPath',
      'one level below /mnt',
    ],
    [
      '/mnt itself',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/' } }),
      'fileSystem.mountPath',
      'one level below /mnt',
    ],
    [
      '/mnt/..',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/..' } }),
      'fileSystem.mountPath',
      'one level below /mnt',
    ],
    [
      'a mount path over 160 characters',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: `/mnt/${'a'.repeat(156)}` } }),
      'fileSystem.mountPath',
      'at most 160 characters',
    ],
    [
      'readOnly as a string',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/msg', readOnly: 'yes' } }),
      'fileSystem.readOnly',
      'true or false',
    ],
    [
      'a bad access point inside the file system',
      withChanges(base, { fileSystem: { accessPoint: { ...messageAccessPointSpec, permissions: 750 }, mountPath: '/mnt/msg' } }),
      'fileSystem.accessPoint.permissions 750',
      'a number would be read as decimal',
    ],
    [
      'a reserved environment key',
      withChanges(base, { environment: { AWS_REGION: 'eu-west-1' } }),
      'environment.AWS_REGION',
      'reserved: Lambda sets it itself',
    ],
    ['_HANDLER in the environment', withChanges(base, { environment: { _HANDLER: 'x.y' } }), 'environment._HANDLER', 'reserved'],
    [
      'an environment key with a dash',
      withChanges(base, { environment: { 'MY-KEY': 'x' } }),
      'environment["MY-KEY"]',
      'an environment variable name is a letter',
    ],
    ['a one-letter environment key', withChanges(base, { environment: { A: 'x' } }), 'environment.A', 'at least one letter, digit or "_"'],
    ['a numeric environment value', withChanges(base, { environment: { PORT: 8080 } }), 'environment.PORT 8080', 'must be strings'],
    ['an environment that is an array', withChanges(base, { environment: ['A=1'] }), 'environment', 'must be an object of string values'],
    ['negative reserved concurrency', withChanges(base, { reservedConcurrency: -1 }), 'reservedConcurrency -1', 'integer of 0 or more'],
    ['provisioned concurrency 0', withChanges(base, { provisionedConcurrency: 0 }), 'provisionedConcurrency 0', 'integer of 1 or more'],
    [
      'provisioned above reserved',
      withChanges(base, { reservedConcurrency: 2, provisionedConcurrency: 3 }),
      'provisionedConcurrency 3',
      'must not exceed reservedConcurrency (2)',
    ],
    ['a 257-character description', withChanges(base, { description: 'd'.repeat(257) }), 'description', 'at most 256 characters'],
    ['the typo memorySize', withChanges(base, { memorySize: 512 }), 'memorySize is not a known field', 'did you mean "memoryMb"?'],
    ['the typo timeout', withChanges(base, { timeout: 10 }), 'timeout is not a known field', 'did you mean "timeoutSeconds"?'],
    ['a misspelt field', withChanges(base, { enviroment: {} }), 'enviroment is not a known field', 'did you mean "environment"?'],
    [
      'the ambiguous handler',
      withChanges(base, { handler: './handler.js' }),
      'handler is not a known field',
      'did you mean "entry" or "handlerExport"?',
    ],
    [
      'an unrelated field',
      withChanges(base, { colour: 'blue' }),
      'colour is not a known field',
      'remove it, or use one of: name, entry, handlerExport',
    ],
    [
      'native modules as a list',
      withChanges(base, { nativeModules: ['sharp'] }),
      'nativeModules',
      "an object like { packages: ['onnxruntime-node', 'sharp']",
    ],
    [
      'native modules without packages',
      withChanges(base, { nativeModules: { from: 'package' } }),
      'nativeModules.packages is missing',
      'list the npm packages',
    ],
    [
      'a native package with a version',
      withChanges(base, { nativeModules: { packages: ['sharp@0.35.5'] } }),
      'nativeModules.packages[0] "sharp@0.35.5"',
      'no version (example: "sharp")',
    ],
    [
      'an upper-case native package',
      withChanges(base, { nativeModules: { packages: ['Sharp'] } }),
      'nativeModules.packages[0]',
      'lower case letters',
    ],
    [
      'a native package listed twice',
      withChanges(base, { nativeModules: { packages: ['sharp', 'sharp'] } }),
      'nativeModules.packages[1] "sharp"',
      'already listed as nativeModules.packages[0]',
    ],
    [
      'an unknown native source',
      withChanges(base, { nativeModules: { packages: ['sharp'], from: 'efs' } }),
      'nativeModules.from "efs"',
      'must be one of "package", "file-system"',
    ],
    [
      'native modules on a file system the function does not mount',
      withChanges(base, { fileSystem: undefined, nativeModules: { packages: ['sharp'], from: 'file-system' } }),
      'nativeModules.from "file-system"',
      'need a fileSystem to load them from',
    ],
    [
      'the typo externalModules',
      withChanges(base, { externalModules: ['sharp'] }),
      'externalModules is not a known field',
      'did you mean "nativeModules"?',
    ],
    [
      'a typo in the file system',
      withChanges(base, { fileSystem: { accessPoint: messageAccessPointSpec, mountPath: '/mnt/msg', readonly: true } }),
      'fileSystem.readonly is not a known field',
      'did you mean "readOnly"?',
    ],
  ];

  it.each(bad)('%s, naming the field and the rule', (_label, spec, path, rule) => {
    const { error, issues } = issuesOf(spec);
    expect(error).toBeInstanceOf(InvalidSpecError);
    expect(error).toBeInstanceOf(FunctionSpecError);
    expect(error.code).toBe('EINVALIDSPEC');
    expect(error.message).toContain(path);
    expect(error.message).toContain(rule);
    expect(issues.some((issue) => issue.message.includes(path) && issue.message.includes(rule))).toBe(true);
  });

  it('words a single problem as "<subject>: <path> <value> is invalid: <rule>"', () => {
    const spec = withChanges(messageWallSpec, { routes: ['ANY /message-wall', 'GET message-wall'] }) as FunctionSpec;
    expect(() => defineFunction(spec)).toThrow(
      'Function "message-wall": routes[1] "GET message-wall" is invalid: a route path must start with "/" (example: "GET /message-wall").',
    );
  });

  it('collects every problem, in the message and in issues', () => {
    const spec = withChanges(messageWallSpec, { memorySize: 512, timeoutSeconds: 0, routes: ['GET x'] });
    const { error, issues } = issuesOf(spec);
    expect(issues.map((issue) => issue.path)).toEqual(['memorySize', 'timeoutSeconds', 'routes[0]']);
    expect(error.message).toMatch(/^Function "message-wall" has 3 problems:\n {2}- memorySize /);
    expect(error.issues).toBe(issues);
  });

  it.each([
    ['null', null],
    ['an array', []],
    ['a string', 'message-wall'],
  ])('a declaration that is %s, without crashing', (_label, spec) => {
    const { error } = issuesOf(spec);
    expect(error.message).toMatch(/^Function \(unnamed\): .* is invalid: a function declaration must be an object/);
  });

  it('names an unnamed function "(unnamed)" and still reports the missing name', () => {
    const { error } = issuesOf({ entry: ENTRY });
    expect(error.message).toBe(
      'Function (unnamed): name is missing: a function name is 1 to 64 characters of letters, digits, "-" and "_" (Lambda\'s rule; example: "message-wall").',
    );
  });

  it('is caught at compile time for typos and bad route keys', () => {
    // These lines only type-check because of @ts-expect-error: the types refuse them.
    // @ts-expect-error memorySize is not a field
    expect(validateFunction({ name: 'f', entry: ENTRY, memorySize: 256 } satisfies FunctionSpec).ok).toBe(false);
    // @ts-expect-error a route key needs "<METHOD> /"
    const routes: FunctionSpec['routes'] = ['GET message-wall'];
    expect(routes).toHaveLength(1);
    expectTypeOf(defineFunction).returns.toEqualTypeOf<FunctionDefinition>();
    expectTypeOf<FunctionDefinition['fileSystem']>().toEqualTypeOf<FileSystemDefinition | null>();
  });
});

describe('nativePlatform', () => {
  it('names the linux platform of each architecture, as libraries directories are named', () => {
    expect(nativePlatform('x86_64')).toBe('linux-x64');
    expect(nativePlatform('arm64')).toBe('linux-arm64');
  });
});
