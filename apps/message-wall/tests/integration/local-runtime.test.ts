import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { http, startWallApi, until, type Answer, type WallApi } from '../helpers/runtime.js';

// The function as it runs locally: HTTP → the local API Gateway → payload 2.0 events →
// execution environments (child processes running dist/handler.js) → the access point's
// directory standing for EFS.

let wall: WallApi | undefined;

afterEach(async (context) => {
  // A failed test shows why the runtime answered as it did: its INIT_REPORTs, timeouts, errors.
  if (context.task.result?.state === 'fail' && wall !== undefined) {
    console.error(
      `The runtime's log (its failures and last lines):\n${runtimeTrouble(wall.lines)}\n…\n${wall.lines.slice(-15).join('\n')}`,
    );
  }
  await wall?.close();
  wall = undefined;
});

describe('the post’s curl session over HTTP', () => {
  it('answers each command of the post byte for byte', async () => {
    wall = await startWallApi();
    const url = `${wall.api.url}/message-wall`;
    // Each request as the post's curl command sends it.
    let steps = 0;
    const step = async (request: () => Promise<Answer>, body: string) => {
      const answer = await request();
      steps++;
      expect(answer.status).toBe(200);
      expect(answer.body).toBe(body);
      expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    };
    // $ curl <url>
    await step(() => http(url), 'No message yet.');
    // $ curl -X POST -H "Content-Type: text/plain" -d 'Hello from EFS!' <url>
    await step(() => http(url, { method: 'POST', contentType: 'text/plain', body: 'Hello from EFS!' }), 'Hello from EFS!\n');
    // $ curl -X POST -H "Content-Type: text/plain" -d 'Hello again :)' <url>
    await step(() => http(url, { method: 'POST', contentType: 'text/plain', body: 'Hello again :)' }), 'Hello from EFS!\nHello again :)\n');
    // $ curl <url>
    await step(() => http(url), 'Hello from EFS!\nHello again :)\n');
    // $ curl -X DELETE <url>
    await step(() => http(url, { method: 'DELETE' }), 'Messages deleted.');
    // $ curl <url>
    await step(() => http(url), 'No message yet.');
    expect(steps).toBe(6);
  });

  it('stores the wall in the access point’s directory, in the post’s format', async () => {
    wall = await startWallApi();
    const url = `${wall.api.url}/message-wall`;
    await http(url, { method: 'POST', contentType: 'text/plain', body: 'Hello from EFS!' });
    // curl -d without -H sends application/x-www-form-urlencoded: API Gateway base64-encodes it.
    await http(url, { method: 'POST', contentType: 'application/x-www-form-urlencoded', body: 'Hello again :)' });
    expect(readFileSync(wall.wallFile, 'utf8')).toBe('Hello from EFS!\nHello again :)\n');
    await http(`${url}/alice`, { method: 'POST', contentType: 'text/plain', body: 'Hi Alice' });
    expect(readFileSync(join(wall.mountDir, 'walls', 'alice', 'content'), 'utf8')).toBe('Hi Alice\n');
  });

  it('refuses other methods with 405 and Allow, and traversal attempts with 400', async () => {
    wall = await startWallApi();
    const put = await http(`${wall.api.url}/message-wall`, { method: 'PUT' });
    expect(put).toMatchObject({ status: 405, body: 'Method unsupported.' });
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    for (const path of ['..%2Fcontent', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2Fetc', '..%5C..', '%00', 'a%2Fb', 'x'.repeat(65)]) {
      const answer = await http(`${wall.api.url}/message-wall/${path}`, { method: 'POST', contentType: 'text/plain', body: 'escape' });
      expect({ path, status: answer.status }).toEqual({ path, status: 400 });
      expect(answer.body).toMatch(/^Wall id .* is invalid: use 1 to 64 letters/);
    }
    expect(existsSync(join(wall.mountDir, 'walls'))).toBe(false);
    expect(readdirSync(wall.mountDir).filter((name) => !name.startsWith('.'))).toEqual([]);
  });
});

/** The pid of the process holding the exclusive lease in `lockDir` (its symlink reads `host:pid`). */
function lockHolder(lockDir: string): number | undefined {
  try {
    const entry = readdirSync(lockDir).find((name) => name.startsWith('x.'));
    if (entry === undefined) return undefined;
    const pid = Number(readlinkSync(join(lockDir, entry)).split(':').at(-1));
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // released (or renewed) between the listing and the readlink
  }
}

/** The runtime's own lines and its environments' failures: why a request got a 500 or 503. */
function runtimeTrouble(lines: readonly string[]): string {
  const trouble = lines.filter((line) => /INIT_REPORT|timed out|throttled|Runtime\.|Status: (error|timeout)|ERROR|cannot start/.test(line));
  return trouble.slice(-40).join('\n');
}

describe('concurrent environments through the runtime', () => {
  it('stores exactly 1,600 intact messages, each once, from 8 environments × 200 concurrent POSTs', { timeout: 300_000 }, async () => {
    wall = await startWallApi({ reservedConcurrency: 8 });
    const url = `${wall.api.url}/message-wall`;
    const clients = 8;
    const perClient = 200;
    const message = (client: number, seq: number) => `client ${client} message ${seq} ${'·'.repeat((client * 31 + seq) % 40)}`;
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        for (let seq = 0; seq < perClient; seq++) {
          const answer = await http(url, { method: 'POST', contentType: 'text/plain', body: message(client, seq) });
          statuses.push(answer.status);
          if (answer.status !== 200) throw new Error(`client ${client} POST ${seq}: ${answer.status} ${answer.body}`);
          // The answer is the wall right after this message.
          expect(answer.body.endsWith(`${message(client, seq)}\n`)).toBe(true);
        }
      }),
    );
    expect(statuses.filter((status) => status === 200)).toHaveLength(clients * perClient);
    const environments = wall.api.environmentPids('message-wall').length;
    expect(environments).toBeGreaterThan(1);
    expect(environments).toBeLessThanOrEqual(8);

    const read = await http(url);
    const lines = read.body.slice(0, -1).split('\n');
    expect(lines).toHaveLength(clients * perClient);
    expect(new Set(lines).size).toBe(clients * perClient);
    for (let client = 0; client < clients; client++) {
      const mine = lines.filter((line) => line.startsWith(`client ${client} `));
      expect(mine).toEqual(Array.from({ length: perClient }, (_, seq) => message(client, seq)));
    }
    expect(readFileSync(wall.wallFile, 'utf8')).toBe(read.body);
  });

  it(
    'keeps the wall intact and readable when an environment is killed at its timeout in the middle of a POST',
    { timeout: 300_000 },
    async () => {
      // The declared 10 s timeout (a shorter one would not leave a cold start on a loaded CI machine
      // room to finish: Lambda gives a retried init the function timeout); a short lease (1 s) keeps
      // the takeover quick.
      wall = await startWallApi({
        reservedConcurrency: 8,
        environment: { MESSAGE_WALL_DIR: '/mnt/msg', MESSAGE_WALL_LOCK_STALE_MS: '1000' },
      });
      const { api, wallFile } = wall;
      const url = `${api.url}/message-wall`;
      const lockDir = `${wallFile}.lock`;
      const acknowledged = new Set<string>();
      const failed = new Set<string>();
      const clientErrors: unknown[] = [];
      let frozen: number | undefined;
      let stop = false;

      const clients = Array.from({ length: 4 }, async (_, client) => {
        try {
          for (let seq = 0; !stop; seq++) {
            const body = `client ${client} message ${seq}`;
            const answer = await http(url, { method: 'POST', contentType: 'text/plain', body });
            (answer.status === 200 ? acknowledged : failed).add(body);
          }
        } catch (error) {
          clientErrors.push(error);
        }
      });

      try {
        await until('20 acknowledged POSTs', () => acknowledged.size >= 20 || clientErrors.length > 0);
        // Freeze the environment that holds the wall's lock, as a stalled environment would be, and
        // let the runtime kill it at its 10 s timeout. The lease's symlink names its holder: host:pid.
        await until('an environment frozen while it holds the lock', () => {
          const pid = lockHolder(lockDir);
          if (pid === undefined || !api.environmentPids('message-wall').includes(pid)) return false;
          try {
            process.kill(pid, 'SIGSTOP');
          } catch {
            return false; // it ended between the listing and the signal
          }
          if (lockHolder(lockDir) === pid) frozen = pid;
          else process.kill(pid, 'SIGCONT'); // it released the lock before it stopped: try again
          return frozen !== undefined;
        });

        // While the lock's holder is frozen, the wall stays readable: GET takes no lock.
        const during = await http(url);
        expect(during.status).toBe(200);
        const seenDuring = during.body.slice(0, -1).split('\n');
        expect(seenDuring.every((line) => /^client \d message \d+$/.test(line))).toBe(true);

        // The runtime ends the frozen environment at its timeout; after one lease the others take the
        // lock over, and POSTs are acknowledged again.
        await until('the frozen environment ended at its timeout', () => !api.environmentPids('message-wall').includes(frozen!));
        const acknowledgedBefore = acknowledged.size;
        await until(
          '10 POSTs acknowledged after the takeover',
          () => acknowledged.size >= acknowledgedBefore + 10 || clientErrors.length > 0,
        );
      } finally {
        stop = true;
        await Promise.all(clients);
      }
      expect(clientErrors).toEqual([]);

      expect(wall.lines.some((line) => /Task timed out after 10\.00 seconds/.test(line))).toBe(true);
      expect(api.environmentPids('message-wall')).not.toContain(frozen);
      expect(failed.size).toBeGreaterThanOrEqual(1); // the frozen environment's POST: answered 500, as by API Gateway

      const read = await http(url);
      expect(read.status).toBe(200);
      const lines = read.body.slice(0, -1).split('\n');
      expect(lines.every((line) => /^client \d message \d+$/.test(line))).toBe(true);
      expect(new Set(lines).size).toBe(lines.length);
      for (const body of acknowledged) expect(lines).toContain(body);
      const after = await http(url, { method: 'POST', contentType: 'text/plain', body: 'after the timeout' });
      expect(after.status).toBe(200);
      expect(readFileSync(wallFile, 'utf8').endsWith('after the timeout\n')).toBe(true);
    },
  );
});
