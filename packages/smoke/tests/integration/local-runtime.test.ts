// `pnpm smoke` (the built CLI, a real child process) against the real functions on the local
// runtime (message-wall, ml-inference and web, as `pnpm start` serves them), with the demo model
// installed as `pnpm start` installs it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { runSmokeCli, startSystem, type TestSystem } from '../helpers/system.js';

let system: TestSystem;

beforeAll(async () => {
  system = await startSystem();
});

afterAll(async () => {
  await system?.close();
});

const WALL_ID = /smoke-\d{8}T\d{6}Z-[0-9a-f]{6}/;

describe('pnpm smoke against the local runtime', () => {
  it('passes every step, exits 0 and prints the table with the classification and the web page', async () => {
    const result = await runSmokeCli([system.url]);
    expect(result.code, `${result.stdout}\n${result.stderr}\n${system.logs.join('\n')}`).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Smoke test of ${system.url} \\(wall ${WALL_ID.source}\\): PASSED, 10 steps passed`));
    const rows = result.stdout.split('\n').filter((line) => /^\d+ {2}/.test(line));
    expect(rows).toHaveLength(10);
    for (const row of rows) expect(row).toMatch(/ passed {2}(200|405) +\d+ ms/);
    expect(rows[0]).toMatch(new RegExp(`GET a new wall: empty +GET /message-wall/${WALL_ID.source}`));
    expect(rows[6]).toMatch(/PUT: 405 with Allow .* 405 /);
    expect(rows[7]).toMatch(
      /POST an image \(sample\.jpg\): its class +POST \/ml-inference +passed +200 +\d+ ms +red 0\.\d\d, model demo 1\.0\.0$/,
    );
    // The page the web function serves, then the hashed script it names.
    expect(rows[8]).toMatch(
      /^9 +GET the web page: CSP, nosniff, no-cache +GET \/ +passed +200 +\d+ ms +script (\/assets\/app\.[0-9a-f]{8}\.js)$/,
    );
    const script = /script (\/assets\/app\.[0-9a-f]{8}\.js)$/.exec(rows[8] ?? '')?.[1];
    expect(rows[9]).toMatch(
      new RegExp(
        `^10 +GET its script: JavaScript, immutable +GET ${script} +passed +200 +\\d+ ms +\\d+ bytes, max-age 31536000 immutable$`,
      ),
    );
    expect(result.stderr).toBe('');
  });

  it('prints a Markdown table for the job summary with --format markdown', async () => {
    const result = await runSmokeCli([`${system.url}/`, '--format', 'markdown']);
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe('### Smoke test: passed ✅');
    expect(result.stdout).toContain('| # | step | request | result | status | time | detail |');
    expect(lines.filter((line) => /^\| \d+ \|/.test(line))).toHaveLength(10);
    expect(result.stdout).toMatch(
      /\| 8 \| POST an image \(sample\.jpg\): its class \| <code>POST \/ml-inference<\/code> \| passed \| 200 \| \d+ ms \| red 0\.\d\d, model demo 1\.0\.0 \|/,
    );
  });

  it('works on a wall of its own each run and leaves the shared wall as it was', async () => {
    const shared = `${system.url}/message-wall`;
    const posted = await fetch(shared, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Hello from EFS!' });
    expect(posted.status).toBe(200);
    const first = await runSmokeCli([system.url, '--skip-ml']);
    const second = await runSmokeCli([system.url, '--skip-ml']);
    expect(first.code, first.stderr).toBe(0);
    expect(second.code, second.stderr).toBe(0);
    const walls = [first.stdout, second.stdout].map((out) => WALL_ID.exec(out)?.[0]);
    expect(walls[0]).toBeDefined();
    expect(walls[1]).toBeDefined();
    expect(walls[0]).not.toBe(walls[1]);
    expect(await (await fetch(shared)).text()).toBe('Hello from EFS!\n');
    expect(readFileSync(join(system.efsRoot, 'message', 'content'), 'utf8')).toBe('Hello from EFS!\n');
    // Each run's wall ends deleted: no messages left on the file system.
    for (const wall of walls) expect(existsSync(join(system.efsRoot, 'message', 'walls', wall ?? '?', 'content'))).toBe(false);
  });

  it('leaves the classification out with --skip-ml and says so', async () => {
    const result = await runSmokeCli([system.url, '--skip-ml']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PASSED, 9 steps passed, 1 skipped/);
    expect(result.stdout).toMatch(/8 +POST an image: its class +POST \/ml-inference +skipped +- +- +--skip-ml/);
  });

  it('leaves the web page and its script out with --skip-web', async () => {
    const result = await runSmokeCli([system.url, '--skip-ml', '--skip-web']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/PASSED, 7 steps passed, 3 skipped/);
    expect(result.stdout).toMatch(/9 +GET the web page: CSP, nosniff, no-cache +GET \/ +skipped +- +- +--skip-web/);
    expect(result.stdout).toMatch(/10 +GET its script: JavaScript, immutable +GET \/assets\/app\.<hash>\.js +skipped +- +- +--skip-web/);
  });

  it('classifies another image with --image and checks --expect-class', async () => {
    const sample = new URL('../../fixtures/sample.jpg', import.meta.url).pathname;
    const wrong = await runSmokeCli([system.url, '--image', sample, '--expect-class', 'blue']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(
      /step 8 "POST an image \(sample\.jpg\): its class" failed \(POST \/ml-inference\): bird_class "red", not "blue" \(model demo 1\.0\.0\)\. Expected: 200 JSON with bird_class "blue" and model \{name, version\}\. The API answered: 200 "\{"bird_class":"red"/,
    );
  });
});
