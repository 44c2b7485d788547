import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

describe('the published package', () => {
  it('contains only dist, README, LICENSE and package.json', () => {
    const [pack] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageDir, encoding: 'utf8' }),
    ) as [{ files: Array<{ path: string }> }];
    const paths = pack.files.map((file) => file.path);
    expect(paths.filter((path) => !path.startsWith('dist/')).sort()).toEqual(['LICENSE', 'README.md', 'package.json']);
    expect(paths).toContain('dist/index.js');
    expect(paths).toContain('dist/index.d.ts');
    expect(paths.filter((path) => path.endsWith('.map'))).toEqual([]);
    // tsc never deletes outputs: a module removed from src (or only ever in tests/sim) must
    // not linger in dist. The build empties dist first.
    const modules = readdirSync(`${packageDir}/src`, { recursive: true, encoding: 'utf8' })
      .filter((path) => path.endsWith('.ts'))
      .map((path) => path.split(sep).join('/').replace(/\.ts$/, ''))
      .sort();
    expect(
      paths
        .filter((path) => path.endsWith('.js'))
        .map((path) => path.slice('dist/'.length, -'.js'.length))
        .sort(),
    ).toEqual(modules);
  });

  it('declares ESM, types, an exports map, no side effects and Node 20+', () => {
    const manifest = JSON.parse(readFileSync(`${packageDir}/package.json`, 'utf8')) as Record<string, unknown>;
    expect(manifest).toMatchObject({
      name: '@lambda-efs/efs-utils',
      type: 'module',
      sideEffects: false,
      files: ['dist'],
      engines: { node: '>=20' },
      exports: { '.': { types: './dist/index.d.ts', default: './dist/index.js' } },
    });
    expect(manifest['dependencies']).toBeUndefined();
  });

  it('exports the fixed public API from the built entry point', async () => {
    const api = (await import(`${packageDir}/dist/index.js`)) as Record<string, unknown>;
    for (const name of [
      'withLock',
      'lock',
      'appendLine',
      'readLines',
      'atomicWriteFile',
      'atomicMove',
      'switchSymlink',
      'removeTree',
      'EfsUtilsError',
      'InvalidArgumentError',
      'LockTimeoutError',
      'LockCompromisedError',
      'CrossDeviceError',
    ]) {
      expect(typeof api[name], name).toBe('function');
    }
  });
});
