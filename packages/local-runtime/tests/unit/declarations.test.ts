import { defineAccessPoint, type FunctionSpec } from '@lambda-efs/function-spec';
import { describe, expect, it } from 'vitest';

import { loadDeclarations } from '../../src/declarations.js';
import { InvalidDeclarationError, MissingEntryError, startLocalApi } from '../../src/index.js';
import { dataAccessPoint, fixtureFunction, HANDLER } from '../helpers/runtime.js';

function issuesOf(run: () => unknown): InvalidDeclarationError {
  try {
    run();
  } catch (error) {
    if (error instanceof InvalidDeclarationError) return error;
    throw error;
  }
  throw new Error('no error thrown');
}

describe('loadDeclarations', () => {
  it('names the function and the field of every problem, and says what to do', () => {
    const bad = [
      { name: 'wall', entry: HANDLER, routes: ['GET message-wall'], memoryMb: 64 },
      { name: 'other', entry: HANDLER, timeoutSeconds: 0 },
    ] as unknown as FunctionSpec[];
    const error = issuesOf(() => loadDeclarations(bad, undefined));
    expect(error.code).toBe('EINVALIDDECLARATION');
    expect(error.issues.map((issue) => [issue.functionName, issue.path])).toEqual([
      ['wall', 'functions[0].memoryMb'],
      ['wall', 'functions[0].routes[0]'],
      ['other', 'functions[1].timeoutSeconds'],
    ]);
    expect(error.message).toContain('Function "wall": functions[0].routes[0] "GET message-wall" is invalid');
    expect(error.message).toContain('did not start');
  });

  it('refuses two functions on one route', () => {
    const error = issuesOf(() =>
      loadDeclarations([fixtureFunction({ name: 'a', routes: ['GET /x'] }), fixtureFunction({ name: 'b', routes: ['GET /x'] })], undefined),
    );
    expect(error.issues[0]).toMatchObject({ functionName: 'b', path: 'functions[1].routes[0]' });
  });

  it('refuses an access point the functions use that the accessPoints passed disagree with', () => {
    const other = defineAccessPoint({ ...dataAccessPoint, permissions: '700' });
    expect(issuesOf(() => loadDeclarations([fixtureFunction()], [other])).issues[0]).toMatchObject({
      functionName: 'fixture',
      path: 'functions[0].fileSystem.accessPoint',
    });
    const unrelated = defineAccessPoint({ name: 'other', rootPath: '/other', owner: { uid: 1, gid: 1 }, permissions: '700' });
    expect(issuesOf(() => loadDeclarations([fixtureFunction()], [unrelated])).issues[0]?.message).toMatch(/not among the accessPoints/);
  });

  it('refuses a bad access point declaration, with its index and field', () => {
    const bad = [{ name: 'data', rootPath: 'data', owner: { uid: 1, gid: 1 }, permissions: 750 }] as never;
    const error = issuesOf(() => loadDeclarations([fixtureFunction()], bad));
    expect(error.issues.map((issue) => issue.path)).toEqual(['accessPoints[0].rootPath', 'accessPoints[0].permissions']);
  });

  it('refuses a function whose handler is not built, naming it, its entry and the build command', () => {
    const missing = fixtureFunction({ name: 'ml-inference', entry: '/nowhere/dist/handler.js', routes: ['GET /ml'] });
    let error: unknown;
    try {
      loadDeclarations([fixtureFunction(), missing], undefined);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MissingEntryError);
    expect((error as MissingEntryError).missing).toEqual([{ functionName: 'ml-inference', entry: '/nowhere/dist/handler.js' }]);
    expect((error as Error).message).toMatch(/Function "ml-inference": entry \/nowhere\/dist\/handler\.js does not exist[\s\S]*pnpm build/);
  });

  it('returns the system and every access point once', () => {
    const loaded = loadDeclarations([fixtureFunction()], [dataAccessPoint]);
    expect(loaded.system.functions.map((fn) => fn.name)).toEqual(['fixture']);
    expect(loaded.accessPoints).toEqual([dataAccessPoint]);
  });
});

describe('startLocalApi with bad input', () => {
  it('does not start with bad declarations', async () => {
    await expect(startLocalApi({ functions: [{ name: 'x y', entry: HANDLER } as FunctionSpec], port: 0 })).rejects.toBeInstanceOf(
      InvalidDeclarationError,
    );
  });

  it.each([
    [{ host: '0.0.0.0' }, /not a loopback address[\s\S]*allowRemote/],
    [{ host: 'example.com' }, /not an IP address/],
    [{ port: 70000 }, /port/],
    [{ logFormat: 'xml' }, /logFormat/],
    [{ efsroot: '/tmp' }, /unknown option/],
    [{ defaultConcurrency: 0 }, /defaultConcurrency/],
  ])('refuses the option %j', async (option, message) => {
    await expect(startLocalApi({ functions: [fixtureFunction()], port: 0, ...(option as object) })).rejects.toThrow(message);
  });
});
