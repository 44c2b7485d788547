import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { watchCode } from '../../src/environments/code-watcher.js';
import { eventually, tempDir } from '../helpers/runtime.js';

const stops: (() => void)[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('watchCode', () => {
  it('reports one change per build, ignores other files, and follows a directory deleted and rebuilt', async () => {
    const root = tempDir('local-runtime-watch-');
    dirs.push(root);
    const dist = join(root, 'dist');
    mkdirSync(dist);
    writeFileSync(join(dist, 'handler.js'), 'export const handler = async () => 1;');
    let changes = 0;
    stops.push(watchCode(join(dist, 'handler.js'), () => changes++, { debounceMs: 50 }));

    // One build: several files written at once.
    writeFileSync(join(dist, 'handler.js'), 'export const handler = async () => 2;');
    writeFileSync(join(dist, 'core.js'), 'export {};');
    await eventually(() => changes === 1);
    writeFileSync(join(dist, 'notes.md'), 'not code');
    // A check that nothing happens needs a wait; 4× the debounce. It can only fail when the
    // watcher is wrong (a busy machine makes a spurious change less likely to be seen, not more).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(changes).toBe(1);

    // A clean build: the directory goes away, then comes back.
    rmSync(dist, { recursive: true });
    await eventually(() => changes === 2);
    mkdirSync(dist);
    writeFileSync(join(dist, 'handler.js'), 'export const handler = async () => 3;');
    await eventually(() => changes >= 3);
    const settled = changes;
    writeFileSync(join(dist, 'handler.js'), 'export const handler = async () => 4;');
    await eventually(() => changes === settled + 1);
  });
});
