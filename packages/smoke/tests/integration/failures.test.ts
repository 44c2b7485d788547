// `pnpm smoke` against systems that answer wrong: it exits non-zero and names the step, what the
// contract expects and what the API answered (status and body).
import { createServer } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { messageWall, mlInference, runSmokeCli, startSystem, stubFunction, web, type TestSystem } from '../helpers/system.js';

let system: TestSystem | undefined;

afterEach(async () => {
  await system?.close();
  system = undefined;
});

describe('pnpm smoke against a broken system', () => {
  it('fails the classification when no model is installed (503 ENOMODEL), after retrying twice, and names it', async () => {
    system = await startSystem({ model: false });
    const result = await runSmokeCli([system.url]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED, 1 of 10 steps failed/);
    expect(result.stdout).toMatch(
      /8 +POST an image \(sample\.jpg\): its class +POST \/ml-inference +FAILED +503 → 503 → 503 +\d+ \+ \d+ \+ \d+ ms +status 503, not 200; retried 2× after 503, 503/,
    );
    // The retries are announced as they happen.
    expect(result.stderr).toMatch(
      /smoke: classify: the API answered 503 "\{"error":\{"code":"ENOMODEL".*retrying in 1 s \(attempt 2 of 3\)/,
    );
    expect(result.stderr).toMatch(/retrying in 3 s \(attempt 3 of 3\)/);
    expect(result.stderr).toMatch(
      /smoke: step 8 "POST an image \(sample\.jpg\): its class" failed \(POST \/ml-inference\): status 503, not 200\. Expected: 200 JSON with bird_class "red" \(from model demo\) and model \{name, version\}\. The API answered: 503 "\{"error":\{"code":"ENOMODEL","message":"No model \\"demo\\" is installed/,
    );
  });

  it('fails naming the GET that lost the message and the 200 answered to PUT, and clears its wall', async () => {
    system = await startSystem({
      model: false,
      functions: [stubFunction('message-wall', 'forgetful-wall.mjs', ['ANY /message-wall', 'ANY /message-wall/{wall}'])],
      accessPoints: [],
    });
    const result = await runSmokeCli([system.url, '--skip-ml', '--skip-web']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED, 2 of 4 steps failed, 6 skipped/);
    expect(result.stdout).toMatch(/3 +GET: the message +GET \/message-wall\/smoke-\S+ +FAILED +200 .* the body differs/);
    expect(result.stdout).toMatch(/4 +POST a second: both, in order .* skipped .* an earlier wall step failed/);
    const lines = result.stderr.trim().split('\n');
    expect(lines.some((line) => /^smoke: cleanup: DELETE \/message-wall\/smoke-\S+ answered 200$/.test(line))).toBe(true);
    const failures = lines.filter((line) => line.startsWith('smoke: step '));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatch(
      /^smoke: step 3 "GET: the message" failed \(GET \/message-wall\/(smoke-\S+)\): the body differs\. Expected: 200 "Hello from EFS! \(\1\)\\n"\. The API answered: 200 "No message yet\."$/,
    );
    expect(failures[1]).toMatch(
      /^smoke: step 7 "PUT: 405 with Allow" failed \(PUT \/message-wall\/smoke-\S+\): status 200, not 405\. Expected: 405 "Method unsupported\.", Allow: GET, POST, DELETE\. The API answered: 200 "Method unsupported\."$/,
    );
    expect(result.stdout).toMatch(/\nCleanup: DELETE \/message-wall\/smoke-\S+ answered 200\n$/);

    // In GitHub Actions, each failure becomes an annotation of the run (a workflow command, newlines escaped).
    const inActions = await runSmokeCli([system.url, '--skip-ml', '--skip-web', '--format', 'markdown'], { GITHUB_ACTIONS: 'true' });
    expect(inActions.code).toBe(1);
    const annotations = inActions.stderr.split('\n').filter((line) => line.startsWith('::error '));
    expect(annotations).toHaveLength(2);
    expect(annotations[0]).toMatch(
      /^::error title=Smoke test failed::smoke: step 3 "GET: the message" failed .*Expected: 200 "Hello from EFS! \(smoke-\S+\)\\n"\. The API answered: 200 "No message yet\."$/,
    );
    expect(inActions.stdout).toMatch(/^### Smoke test: FAILED ❌\n/);
  });

  it('retries a 503 from a cold classifier once, passes, and says so', async () => {
    system = await startSystem({
      model: false,
      functions: [
        messageWall,
        stubFunction('ml-inference', 'cold-classifier.mjs', ['POST /ml-inference'], { reservedConcurrency: 1 }),
        web,
      ],
    });
    const result = await runSmokeCli([system.url, '--format', 'markdown']);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stderr).toMatch(
      /^smoke: classify: the API answered 503 "\{"message":"Service Unavailable"\}" \(a cold start\?\); retrying in 1 s \(attempt 2 of 3\)\n$/,
    );
    expect(result.stdout).toMatch(
      /\| 8 \| POST an image \(sample\.jpg\): its class \| <code>POST \/ml-inference<\/code> \| passed \| 503 → 200 \| \d+ \+ \d+ ms \| red 0\.90, model demo 0\.0\.1-stub; retried 1× after 503 \|/,
    );
  });

  it('fails the web page step naming the missing Content-Security-Policy, and skips its script', async () => {
    system = await startSystem({
      functions: [messageWall, mlInference, stubFunction('web', 'web-without-csp.mjs', ['GET /', 'GET /assets/{proxy+}'])],
    });
    const result = await runSmokeCli([system.url]);
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(1);
    expect(result.stdout).toMatch(/FAILED, 1 of 9 steps failed, 1 skipped/);
    expect(result.stdout).toMatch(
      /9 +GET the web page: CSP, nosniff, no-cache +GET \/ +FAILED +200 +\d+ ms +no Content-Security-Policy header/,
    );
    expect(result.stdout).toMatch(
      /10 +GET its script: JavaScript, immutable +GET \/assets\/app\.<hash>\.js +skipped +- +- +the page step failed/,
    );
    const failures = result.stderr
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('smoke: step '));
    expect(failures).toEqual([
      expect.stringMatching(
        /^smoke: step 9 "GET the web page: CSP, nosniff, no-cache" failed \(GET \/\): no Content-Security-Policy header: the page would run any injected script\. Expected: 200 text\/html; Content-Security-Policy with default-src 'self' and no 'unsafe-inline' for scripts;.* The API answered: 200 "<!doctype html><title>wall<\/title><script type="module" src="assets\/app\.0123abcd\.js"><\/script>"$/,
      ),
    ]);
  });

  it('fails every step it can reach when nothing answers at the URL', async () => {
    // A port that was free a moment ago: connections are refused.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const result = await runSmokeCli([`http://127.0.0.1:${port}`, '--timeout', '5s']);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/FAILED, 4 of 4 steps failed, 6 skipped/);
    expect(result.stderr).toMatch(
      /smoke: step 1 "GET a new wall: empty" failed \(GET \/message-wall\/smoke-\S+\): no answer\. Expected: 200 "No message yet\."\. The API answered: no answer: connect ECONNREFUSED 127\.0\.0\.1:\d+/,
    );
  });

  it('exits 2 with what to do on a bad command line', async () => {
    const noUrl = await runSmokeCli([]);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toMatch(/^smoke: Pass exactly one base URL \(got none\)\.\n\nUsage: pnpm smoke <base-url>/);
    const missing = await runSmokeCli(['http://127.0.0.1:9', '--image', 'no-such.jpg']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^smoke: Cannot read the image \/\S+\/no-such\.jpg \(ENOENT\): pass an existing file with --image\.\n$/);
  });
});
