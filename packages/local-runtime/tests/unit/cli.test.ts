import { describe, expect, it } from 'vitest';

import { InvalidOptionError, parseCliArgs } from '../../src/index.js';

describe('parseCliArgs', () => {
  it('reads every flag', () => {
    const command = parseCliArgs(
      [
        '--port',
        '4000',
        '--invoke-port',
        '4001',
        '--host',
        '0.0.0.0',
        '--allow-remote',
        '--efs-root',
        '/srv/efs',
        '--log-format',
        'json',
        '--concurrency',
        '4',
        '--idle-timeout',
        '60',
        '--no-watch',
        '--no-freeze',
        '--bundles',
        'out/bundles',
        'a.js',
      ],
      {},
    );
    expect(command).toEqual({
      kind: 'run',
      settings: {
        port: 4000,
        invokePort: 4001,
        host: '0.0.0.0',
        allowRemote: true,
        efsRoot: '/srv/efs',
        logFormat: 'json',
        defaultConcurrency: 4,
        idleTimeoutMs: 60_000,
        watch: false,
        freeze: false,
      },
      modules: ['a.js'],
      bundles: 'out/bundles',
    });
  });

  it('serves the Invoke API on 3001 by default, on a free port when --port is 0, and not at all with --invoke-port 0', () => {
    expect(parseCliArgs([], {})).toMatchObject({ settings: { invokePort: 3001 } });
    expect(parseCliArgs(['--port', '0'], {})).toMatchObject({ settings: { port: 0, invokePort: 0 } });
    const off = parseCliArgs(['--invoke-port', '0'], {});
    expect(off.kind === 'run' && 'invokePort' in off.settings).toBe(false);
    expect(parseCliArgs([], { LOCAL_RUNTIME_INVOKE_PORT: '4100' })).toMatchObject({ settings: { invokePort: 4100 } });
  });

  it('takes --bundles with a directory, without one, or as --bundles=<dir>, and leaves declaration modules alone', () => {
    expect(parseCliArgs(['--bundles'], {})).toMatchObject({ bundles: true, modules: [] });
    expect(parseCliArgs(['--bundles', '--no-watch'], {})).toMatchObject({ bundles: true, settings: { watch: false } });
    expect(parseCliArgs(['--bundles', 'dist/function.js'], {})).toMatchObject({ bundles: true, modules: ['dist/function.js'] });
    expect(parseCliArgs(['--bundles=out', 'dist/function.js'], {})).toMatchObject({ bundles: 'out', modules: ['dist/function.js'] });
    expect(parseCliArgs([], {})).not.toHaveProperty('bundles');
  });

  it('falls back to the environment, and a flag wins over it', () => {
    const env = { LOCAL_RUNTIME_PORT: '5000', LOCAL_RUNTIME_LOG_FORMAT: 'json', LOCAL_RUNTIME_EFS_ROOT: '/e' };
    expect(parseCliArgs([], env)).toEqual({
      kind: 'run',
      settings: { port: 5000, logFormat: 'json', efsRoot: '/e', invokePort: 3001 },
      modules: [],
    });
    expect(parseCliArgs(['--port', '6000'], env)).toMatchObject({ settings: { port: 6000 } });
  });

  it('asks for help', () => {
    expect(parseCliArgs(['-h'], {})).toEqual({ kind: 'help' });
  });

  it.each([
    [['--port', 'x']],
    [['--log-format', 'xml']],
    [['--bogus']],
    [['--concurrency', '-1']],
    [['--invoke-port', 'x']],
    [['--bundles=']],
  ])('refuses %j', (argv) => {
    expect(() => parseCliArgs(argv, {})).toThrow(InvalidOptionError);
  });
});
