import { describe, expect, it } from 'vitest';

import { InvalidOptionError, parseCliArgs } from '../../src/index.js';

describe('parseCliArgs', () => {
  it('reads every flag', () => {
    const command = parseCliArgs(
      ['--port', '4000', '--host', '0.0.0.0', '--allow-remote', '--efs-root', '/srv/efs', '--log-format', 'json', '--concurrency', '4', '--idle-timeout', '60', '--no-watch', '--no-freeze', 'a.js'],
      {},
    );
    expect(command).toEqual({
      kind: 'run',
      settings: {
        port: 4000,
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
    });
  });

  it('falls back to the environment, and a flag wins over it', () => {
    const env = { LOCAL_RUNTIME_PORT: '5000', LOCAL_RUNTIME_LOG_FORMAT: 'json', LOCAL_RUNTIME_EFS_ROOT: '/e' };
    expect(parseCliArgs([], env)).toEqual({ kind: 'run', settings: { port: 5000, logFormat: 'json', efsRoot: '/e' }, modules: [] });
    expect(parseCliArgs(['--port', '6000'], env)).toMatchObject({ settings: { port: 6000 } });
  });

  it('asks for help', () => {
    expect(parseCliArgs(['-h'], {})).toEqual({ kind: 'help' });
  });

  it.each([[['--port', 'x']], [['--log-format', 'xml']], [['--bogus']], [['--concurrency', '-1']]])('refuses %j', (argv) => {
    expect(() => parseCliArgs(argv, {})).toThrow(InvalidOptionError);
  });
});
