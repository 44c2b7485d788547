// The message wall in a real browser (Debian's Chromium, headless), through the local runtime:
// post, see another tab's message arrive, delete, API errors, hostile messages, pausing while hidden.
import { randomUUID } from 'node:crypto';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFailed } from 'vitest';

import {
  chromiumPath,
  DEADLINE_MS,
  launchBrowser,
  screenshotPath,
  violations,
  warnIfNoChromium,
  watchPage,
  type PageWatch,
} from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';

warnIfNoChromium('tests/browser/wall.test.ts');

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  if (chromiumPath === undefined) return;
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

async function newContext(): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  return context;
}

/** A wall of the test's own, so tests never see each other's messages. */
function wallId(): string {
  return `t-${randomUUID().slice(0, 8)}`;
}

async function wallPage(wall: string | null, context?: BrowserContext): Promise<{ page: Page; watch: PageWatch }> {
  const ctx = context ?? (await newContext());
  const page = await ctx.newPage();
  const watch = await watchPage(page, stack.url);
  await page.goto(`${stack.url}/${wall === null ? '' : `?wall=${wall}`}`);
  await page.waitForFunction(() => document.documentElement.dataset['ready'] === 'true', undefined, { timeout: 60_000 });
  onTestFailed(() => {
    process.stderr.write(`requests: ${watch.requests.join('\n')}\nlogs:\n${stack.logs.slice(-40).join('\n')}\n`);
  });
  return { page, watch };
}

function messageTexts(page: Page): Promise<string[]> {
  return page.$$eval('#messages li', (items) => items.map((item) => item.textContent ?? ''));
}

async function waitForMessage(page: Page, text: string): Promise<void> {
  await page.waitForFunction(
    (expected) => [...document.querySelectorAll('#messages li')].some((item) => item.textContent === expected),
    text,
    { timeout: DEADLINE_MS },
  );
}

async function postThroughApi(wall: string, message: string): Promise<void> {
  const response = await fetch(`${stack.url}/message-wall/${wall}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain; charset=utf-8' },
    body: message,
  });
  expect(response.status, await response.clone().text()).toBe(200);
}

async function errorText(page: Page, selector: string): Promise<string> {
  await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent ?? '') !== '', selector, { timeout: DEADLINE_MS });
  return (await page.textContent(selector)) ?? '';
}

describe.skipIf(chromiumPath === undefined)('the message wall in Chromium', () => {
  it('posts a message with Enter and shows it, and the API has it', async () => {
    const wall = wallId();
    const { page, watch } = await wallPage(wall);
    await expect.poll(() => page.textContent('#messages-title')).toBe(`Wall “${wall}”`);
    await page.fill('#message', 'Hello from EFS!');
    await page.press('#message', 'Enter');
    await waitForMessage(page, 'Hello from EFS!');
    expect(await page.inputValue('#message')).toBe('');
    expect(await (await fetch(`${stack.url}/message-wall/${wall}`)).text()).toBe('Hello from EFS!\n');
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    await page.screenshot({ path: screenshotPath('wall'), fullPage: true });
  });

  it('shows the shared wall by default, and keeps the shared wall when a message reads "No message yet."', async () => {
    const { page } = await wallPage(null);
    expect(await page.textContent('#messages-title')).toBe('Shared wall');
    await page.fill('#message', 'No message yet.');
    await page.press('#message', 'Enter');
    await waitForMessage(page, 'No message yet.');
    expect(await page.isHidden('#messages-empty')).toBe(true);
    const response = await fetch(`${stack.url}/message-wall`, { method: 'DELETE' });
    expect(response.status).toBe(200);
  });

  it("shows another tab's message within the refresh interval, without rebuilding the messages already shown", async () => {
    const wall = wallId();
    await postThroughApi(wall, 'first');
    const { page: reader } = await wallPage(wall);
    await waitForMessage(reader, 'first');
    // Mark the node on screen: if the refresh rebuilt the list, the mark would be gone.
    await reader.$eval('#messages li', (item) => item.setAttribute('data-test-mark', 'kept'));
    const { page: writer } = await wallPage(wall);
    await writer.fill('#message', 'second, from another tab');
    await writer.press('#message', 'Enter');
    await waitForMessage(writer, 'second, from another tab');
    await waitForMessage(reader, 'second, from another tab');
    expect(await messageTexts(reader)).toEqual(['first', 'second, from another tab']);
    expect(await reader.getAttribute('#messages li:first-child', 'data-test-mark')).toBe('kept');
    expect(await reader.textContent('#wall-status')).toBe('1 new message.');
  });

  it('updates the byte counter in UTF-8 bytes as the message is typed', async () => {
    const { page } = await wallPage(wallId());
    await page.fill('#message', 'héllo 🐦');
    expect(await page.textContent('#message-bytes')).toBe('11 / 65,536 bytes');
    await page.fill('#message', 'x'.repeat(65_537));
    expect(await page.textContent('#message-bytes')).toBe('65,537 / 65,536 bytes — 1 over the limit');
    expect(await page.getAttribute('#message-bytes', 'class')).toContain('over');
  });

  it("shows the API's 413 for a message over the limit, and keeps the text", async () => {
    const { page } = await wallPage(wallId());
    const long = 'x'.repeat(70_000);
    await page.fill('#message', long);
    await page.press('#message', 'Enter');
    const error = await errorText(page, '#wall-error');
    expect(error).toBe(
      'Not posted: 413 Payload Too Large: Message is too large: 70000 bytes, the limit is 65536 bytes of UTF-8 text. Shorten it or split it into several messages.',
    );
    expect((await page.inputValue('#message')).length).toBe(70_000);
    await page.screenshot({ path: screenshotPath('wall-error'), fullPage: true });
  });

  it("shows the API's 400 for an empty message", async () => {
    const { page } = await wallPage(wallId());
    await page.press('#message', 'Enter');
    expect(await errorText(page, '#wall-error')).toMatch(/^Not posted: 400 Bad Request: Message is empty\. /);
  });

  it("shows the API's message for an invalid wall id, and stays on the wall it had", async () => {
    const wall = wallId();
    const { page } = await wallPage(wall);
    await page.fill('#wall-id', 'not valid!');
    await page.press('#wall-id', 'Enter');
    const error = await errorText(page, '#wall-error');
    expect(error).toBe(
      'Could not open wall “not valid!”: 400 Bad Request: Wall id "not valid!" is invalid: use 1 to 64 letters, digits, "-" or "_", for example /message-wall/alice.',
    );
    expect(await page.getAttribute('#wall-id', 'aria-invalid')).toBe('true');
    expect(await page.textContent('#messages-title')).toBe(`Wall “${wall}”`);
  });

  it('opens a new wall of its own with a random valid id', async () => {
    const { page } = await wallPage(null);
    await page.click('#wall-new');
    await page.waitForFunction(() => new URL(location.href).searchParams.has('wall'), undefined, { timeout: DEADLINE_MS });
    const id = await page.inputValue('#wall-id');
    expect(id).toMatch(/^[A-Za-z0-9_-]{12}$/);
    expect(await page.textContent('#messages-title')).toBe(`Wall “${id}”`);
    expect(await page.isVisible('#messages-empty')).toBe(true);
  });

  it('deletes every message after a confirmation, and keeps them when cancelled', async () => {
    const wall = wallId();
    await postThroughApi(wall, 'to be deleted');
    const { page, watch } = await wallPage(wall);
    await waitForMessage(page, 'to be deleted');
    await page.click('#delete-button');
    await page.waitForSelector('#delete-dialog[open]', { timeout: DEADLINE_MS });
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('delete-cancel');
    expect(await page.textContent('#delete-text')).toContain(`wall “${wall}”`);
    await page.screenshot({ path: screenshotPath('wall-delete-dialog') });
    await page.keyboard.press('Escape');
    await page.waitForSelector('#delete-dialog:not([open])', { state: 'attached', timeout: DEADLINE_MS });
    expect(await messageTexts(page)).toEqual(['to be deleted']);

    await page.click('#delete-button');
    await page.click('#delete-confirm');
    await page.waitForSelector('#messages-empty', { state: 'visible', timeout: DEADLINE_MS });
    expect(await page.textContent('#wall-status')).toBe('Messages deleted.');
    expect(await (await fetch(`${stack.url}/message-wall/${wall}`)).text()).toBe('No message yet.');
    expect(watch.dialogs).toEqual([]); // the confirmation is the page's own <dialog>, not window.confirm
  });

  it('renders every hostile message as inert text: no markup, no script, no dialog, no foreign request', async () => {
    const wall = wallId();
    const hostile = [
      '<img src=x onerror="window.__pwned=\'img\';alert(1)">',
      '<script>window.__pwned="script";alert(2)</script>',
      '<svg onload="window.__pwned=\'svg\'"><circle r="9"/></svg>',
      'javascript:window.__pwned="js";alert(3)',
      '<a href="javascript:alert(4)">click me</a>',
      '[click me](javascript:alert(5))',
      '<img src="https://tracker.example/pixel.png">',
      '<iframe src="https://evil.example/"></iframe>',
      '<link rel="stylesheet" href="https://evil.example/x.css"><style>body{display:none}</style>',
      '</li></ol><h1 id="injected">injected</h1>',
      '{{constructor.constructor("window.__pwned=1")()}} ${alert(6)}',
      `${'W'.repeat(4000)} a very long word`,
      '\u202Eevil.exe \u202C← a right-to-left override',
      '\u2067unclosed right-to-left isolate and \u202Bembedding',
      'after the overrides: this line reads left to right',
    ];
    for (const message of hostile.slice(0, -1)) await postThroughApi(wall, message);
    const { page, watch } = await wallPage(wall);
    // One more typed into the page itself.
    await page.fill('#message', hostile.at(-1) ?? '');
    await page.press('#message', 'Enter');
    await waitForMessage(page, hostile.at(-1) ?? '');

    expect(await messageTexts(page)).toEqual(hostile);
    const facts = await page.evaluate(() => {
      const list = document.querySelector('#messages') as HTMLOListElement;
      const items = [...list.querySelectorAll('li')];
      return {
        elementsInMessages: list.querySelectorAll('li *').length,
        links: document.querySelectorAll('a').length,
        injected: document.querySelector('#injected') !== null,
        pwned: (window as unknown as { __pwned?: unknown }).__pwned ?? null,
        dirs: [...new Set(items.map((item) => item.dir))],
        bidi: [...new Set(items.map((item) => getComputedStyle(item).unicodeBidi))],
        wrap: [...new Set(items.map((item) => getComputedStyle(item).overflowWrap))],
        listOverflows: list.scrollWidth > list.clientWidth,
        pageOverflows: document.documentElement.scrollWidth > document.documentElement.clientWidth,
        images: document.images.length,
      };
    });
    expect(facts).toEqual({
      elementsInMessages: 0,
      links: 0,
      injected: false,
      pwned: null,
      dirs: ['auto'],
      bidi: ['isolate'],
      wrap: ['anywhere'],
      listOverflows: false,
      pageOverflows: false,
      images: 1, // the classifier's (empty) preview
    });
    expect(watch.dialogs).toEqual([]);
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('wall-hostile'), fullPage: true });
    await page.$eval('#messages', (list) => list.scrollTo(0, 0));
    await page.screenshot({ path: screenshotPath('wall-hostile-top'), fullPage: true });
  });

  it('says when refreshing fails, keeps the messages shown, and recovers', async () => {
    const wall = wallId();
    await postThroughApi(wall, 'still here');
    const { page } = await wallPage(wall);
    await waitForMessage(page, 'still here');
    // The wall's lock busy for longer than the wait budget is hard to arrange on purpose: the
    // browser answers the polls with the function's own 503 instead.
    const busy = 'The wall is busy: its lock was not free within 5000 ms. Nothing was changed. Retry in a moment.';
    await page.route(`**/message-wall/${wall}?tail=*`, (route) =>
      route.fulfill({ status: 503, headers: { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '1' }, body: busy }),
    );
    await page.waitForFunction(
      (text) => document.querySelector('#wall-status')?.textContent === text,
      `Refreshing failed: 503 Service Unavailable: ${busy}`,
      { timeout: DEADLINE_MS },
    );
    expect(await messageTexts(page)).toEqual(['still here']);
    await page.unroute(`**/message-wall/${wall}?tail=*`);
    await page.waitForFunction(() => document.querySelector('#wall-status')?.textContent === 'Connected again.', undefined, {
      timeout: 60_000,
    });
    expect(await messageTexts(page)).toEqual(['still here']);
  });

  it('pauses refreshing while the tab is hidden and catches up when it is shown again', async () => {
    const wall = wallId();
    const { page } = await wallPage(wall);
    const polls: number[] = [];
    page.on('request', (request) => {
      if (request.url().includes(`/message-wall/${wall}?tail=`)) polls.push(Date.now());
    });
    await expect.poll(() => polls.length, { timeout: DEADLINE_MS }).toBeGreaterThan(0); // polling runs
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await postThroughApi(wall, 'posted while hidden');
    // A margin for request events already on their way, then three refresh intervals. Under load the
    // page polls less, never more, so waiting here cannot make the test flaky.
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 1_000)));
    const before = polls.length;
    await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 6_000)));
    expect(polls.length).toBe(before);
    expect(await messageTexts(page)).toEqual([]);
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'visible' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await waitForMessage(page, 'posted while hidden');
  });
});
