import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterEach, describe, expect, it } from 'vitest';

import { bodyOf, eventually, FIXTURES, processExists, tempDir, type PidAnswer } from '../helpers/runtime.js';
import { makeZip } from '../helpers/zip.js';

const BIN = fileURLToPath(new URL('../../dist/cli/bin.js', import.meta.url));
const children: ChildProcess[] = [];
const dirs: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

describe('lambda-efs-local (the command line)', () => {
  it('serves the declared routes, prints URL and routes, and ends every environment on SIGTERM', async () => {
    const dir = tempDir('local-runtime-cli-');
    dirs.push(dir);
    const cli = run(['--port', '0', '--efs-root', join(dir, 'efs'), '--no-watch', join(FIXTURES, 'declaration.mjs')]);
    await eventually(() => cli.output().includes('Ctrl-C stops it.'));
    const url = /Local API on (\S+)/.exec(cli.output())?.[1] ?? '';
    expect(cli.output()).toMatch(/GET \/pid\s+-> fixture/);
    expect(cli.output()).toMatch(/GET \/echo\/\{proxy\+\}\s+-> fixture/);
    const { pid } = await bodyOf<PidAnswer>(fetch(`${url}/pid`));
    expect(processExists(pid)).toBe(true);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toBe(0);
    expect(processExists(pid)).toBe(false);
    expect(cli.output()).toMatch(/START RequestId: \S+ Version: \$LATEST/);
  });

  it("prints the Invoke API's URL with an example, and serves it", async () => {
    const dir = tempDir('local-runtime-cli-');
    dirs.push(dir);
    const cli = run(['--port', '0', '--efs-root', join(dir, 'efs'), '--no-watch', join(FIXTURES, 'declaration.mjs')]);
    await eventually(() => cli.output().includes('Ctrl-C stops it.'));
    const invokeUrl = /Lambda Invoke API on (\S+)/.exec(cli.output())?.[1] ?? '';
    expect(cli.output()).toContain(`aws lambda invoke --endpoint-url ${invokeUrl} --function-name fixture`);
    const response = await fetch(`${invokeUrl}/2015-03-31/functions/fixture/invocations`, {
      method: 'POST',
      body: JSON.stringify({ rawPath: '/pid' }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toHaveProperty('pid');
  });

  it('serves the zips of --bundles=<dir> instead of the built entries', async () => {
    const dir = tempDir('local-runtime-cli-');
    dirs.push(dir);
    const bundles = join(dir, 'bundles');
    mkdirSync(join(bundles, 'fixture'), { recursive: true });
    const handler = readFileSync(join(FIXTURES, 'handler.mjs'), 'utf8').replace(
      "case 'pid':",
      "case 'pid':\n      return { pid: process.pid, invocations, packaged: true };",
    );
    writeFileSync(join(bundles, 'fixture', 'handler.zip'), makeZip([{ name: 'handler.mjs', data: handler }]));
    const cli = run([
      '--port',
      '0',
      '--invoke-port',
      '0',
      '--efs-root',
      join(dir, 'efs'),
      '--no-watch',
      `--bundles=${bundles}`,
      join(FIXTURES, 'declaration.mjs'),
    ]);
    await eventually(() => cli.output().includes('Ctrl-C stops it.'));
    expect(cli.output()).not.toContain('Lambda Invoke API');
    expect(cli.output()).toMatch(/fixture: deployment package extracted in \S+\/fixture\/[0-9a-f]{64}/);
    const url = /Local API on (\S+)/.exec(cli.output())?.[1] ?? '';
    expect(await bodyOf<PidAnswer & { packaged: boolean }>(fetch(`${url}/pid`))).toMatchObject({ packaged: true });
  });

  it('refuses a function whose handler is not built, naming it, and exits 1', async () => {
    const cli = run(['--port', '0', join(FIXTURES, 'missing-entry.mjs')]);
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/Function "not-built": entry \S+not-built\/handler\.js does not exist/);
  });

  it('refuses a non-loopback address without --allow-remote', async () => {
    const cli = run(['--host', '0.0.0.0', join(FIXTURES, 'declaration.mjs')]);
    expect(await cli.exited).toBe(1);
    expect(cli.output()).toMatch(/not a loopback address/);
  });
});
