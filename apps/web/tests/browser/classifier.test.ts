// The image classifier in a real browser (Debian's Chromium, headless), through the local runtime
// and the demo model (which colour dominates the image): upload, drop, URL, and the API's errors.
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
import { png } from '../helpers/png.js';
import { startStack, type Stack } from '../helpers/stack.js';

warnIfNoChromium('tests/browser/classifier.test.ts');

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const MOSTLY_RED = png([220, 30, 30], { spot: [30, 30, 200] });
const MOSTLY_GREEN = png([40, 200, 40], { width: 90, height: 200 });

beforeAll(async () => {
  if (chromiumPath === undefined) return;
  [stack, browser] = await Promise.all([startStack(), launchBrowser()]);
  stack.images.file('/green.png', MOSTLY_GREEN, 'image/png');
  stack.images.file('/page.html', Buffer.from('<!doctype html><title>not an image</title>'), 'text/html');
});

afterAll(async () => {
  await browser?.close();
  await stack?.close();
});

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((context) => context.close()));
});

async function classifierPage(): Promise<{ page: Page; watch: PageWatch }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  const watch = await watchPage(page, stack.url);
  await page.goto(`${stack.url}/`);
  await page.waitForFunction(() => document.documentElement.dataset['ready'] === 'true', undefined, { timeout: 60_000 });
  onTestFailed(() => {
    process.stderr.write(`requests: ${watch.requests.join('\n')}\nlogs:\n${stack.logs.slice(-40).join('\n')}\n`);
  });
  return { page, watch };
}

/** The bars as the page shows them: label, percentage text and the bar's width in % of its track. */
async function predictions(page: Page): Promise<{ label: string; value: string; width: number }[]> {
  await page.waitForSelector('#predictions li', { timeout: 120_000 }); // the model's first load included
  return page.$$eval('#predictions li', (items) =>
    items.map((item) => {
      const bar = item.querySelector('.bar') as HTMLElement;
      const fill = item.querySelector('.fill') as HTMLElement;
      return {
        label: item.querySelector('.label')?.textContent ?? '',
        value: item.querySelector('.value')?.textContent ?? '',
        width: Math.round((fill.getBoundingClientRect().width / bar.getBoundingClientRect().width) * 100),
      };
    }),
  );
}

async function classifyError(page: Page): Promise<string> {
  await page.waitForFunction(() => (document.querySelector('#classify-error')?.textContent ?? '') !== '', undefined, { timeout: 120_000 });
  return (await page.textContent('#classify-error')) ?? '';
}

describe.skipIf(chromiumPath === undefined)('the image classifier in Chromium', () => {
  it('classifies a chosen image: a preview, the top 5 as bars, the model and the request time', async () => {
    const { page, watch } = await classifierPage();
    await page.setInputFiles('#image-file', { name: 'mostly-red.png', mimeType: 'image/png', buffer: MOSTLY_RED });
    const bars = await predictions(page);
    expect(bars).toHaveLength(5);
    expect(bars[0]?.label).toBe('red');
    expect(bars[0]?.value).toMatch(/^\d{1,3}\.\d %$/);
    const topPercent = Number.parseFloat(bars[0]?.value ?? '0');
    expect(topPercent).toBeGreaterThan(50);
    // Bars: as wide as their probability, widest first.
    expect(Math.abs((bars[0]?.width ?? 0) - topPercent)).toBeLessThanOrEqual(2);
    expect(bars.map((bar) => bar.width)).toEqual([...bars.map((bar) => bar.width)].sort((a, b) => b - a));
    expect(await page.textContent('#model-info')).toMatch(
      /^Model demo 1\.0\.0\. Answered in [\d,]+ ms \(request time seen by this page\)\.$/,
    );
    expect(await page.textContent('#classify-status')).toMatch(/^Top prediction: red \(\d+\.\d %\), model demo 1\.0\.0, \d+ ms\.$/);
    expect(await page.getAttribute('#preview-image', 'src')).toMatch(/^blob:/);
    expect(await page.textContent('#preview-caption')).toBe(`mostly-red.png, ${MOSTLY_RED.length.toLocaleString('en')} bytes`);
    expect(watch.foreignRequests).toEqual([]);
    expect(watch.pageErrors).toEqual([]);
    expect(await violations(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('classifier'), fullPage: true });
  });

  it('classifies an image dropped on the drop zone', async () => {
    const { page } = await classifierPage();
    await page.evaluate(
      (bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
        document
          .querySelector('#drop-zone')
          ?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
      },
      [...MOSTLY_GREEN],
    );
    const bars = await predictions(page);
    expect(bars[0]?.label).toBe('green');
    expect(await page.textContent('#preview-caption')).toContain('dropped.png');
  });

  it('classifies an image pasted into the page', async () => {
    const { page } = await classifierPage();
    await page.evaluate(
      (bytes) => {
        const transfer = new DataTransfer();
        transfer.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
        document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: transfer, bubbles: true, cancelable: true }));
      },
      [...MOSTLY_RED],
    );
    expect((await predictions(page))[0]?.label).toBe('red');
  });

  it('classifies an image URL, fetched by the function (no preview: the page loads nothing from elsewhere)', async () => {
    const { page, watch } = await classifierPage();
    await page.fill('#image-url', `${stack.images.origin}/green.png`);
    await page.press('#image-url', 'Enter');
    const bars = await predictions(page);
    expect(bars[0]?.label).toBe('green');
    expect(await page.isHidden('#preview-image')).toBe(true);
    expect(watch.requests.filter((request) => request.includes(stack.images.origin) && !request.includes('/ml-inference?'))).toEqual([]);
  });

  it.each([
    {
      what: '415 for a file that is not an image',
      act: (page: Page) =>
        page.setInputFiles('#image-file', {
          name: 'notes.txt',
          mimeType: 'text/plain',
          buffer: Buffer.from('just some text, not an image'),
        }),
      expected: /^Not classified: 415 Unsupported Media Type EMEDIATYPE: /,
    },
    {
      what: '400 for a URL that is not http(s)',
      act: async (page: Page) => {
        await page.fill('#image-url', 'ftp://example.com/x.jpg');
        await page.press('#image-url', 'Enter');
      },
      expected:
        /^Not classified: 400 Bad Request EURL: Only http and https URLs can be fetched, not ftp\. Pass an http\(s\) URL, or upload the image with POST\.$/,
    },
    {
      what: '403 for a link-local address (the metadata service), refused before any connection',
      act: async (page: Page) => {
        await page.fill('#image-url', 'http://169.254.169.254/latest/meta-data/');
        await page.press('#image-url', 'Enter');
      },
      expected: /^Not classified: 403 Forbidden EADDRESS: /,
    },
    {
      what: '422 for a URL that answers 404',
      act: async (page: Page) => {
        await page.fill('#image-url', `${stack.images.origin}/missing.png`);
        await page.press('#image-url', 'Enter');
      },
      expected: /^Not classified: 422 Unprocessable Entity EFETCH: /,
    },
    {
      what: '415 for a URL that serves HTML',
      act: async (page: Page) => {
        await page.fill('#image-url', `${stack.images.origin}/page.html`);
        await page.press('#image-url', 'Enter');
      },
      expected: /^Not classified: 415 Unsupported Media Type EMEDIATYPE: /,
    },
    {
      // 5 MiB is 6.7 MB once base64-encoded in the event: over Lambda's 6 MB, refused before the function.
      what: '413 for an upload over what Lambda accepts',
      act: (page: Page) =>
        page.setInputFiles('#image-file', {
          name: 'huge.png',
          mimeType: 'image/png',
          buffer: Buffer.concat([MOSTLY_RED, Buffer.alloc(5 * 1024 * 1024)]),
        }),
      expected: /^Not classified: 413 Payload Too Large/,
    },
  ])("shows the API's $what", async ({ act, expected }) => {
    const { page } = await classifierPage();
    await act(page);
    expect(await classifyError(page)).toMatch(expected);
    expect(await page.isHidden('#predictions-box')).toBe(true);
  });

  it('asks for a URL before classifying an empty one', async () => {
    const { page, watch } = await classifierPage();
    await page.click('#url-form button');
    expect(await classifyError(page)).toBe('Enter the address of an image first, for example https://example.org/bird.jpg.');
    expect(watch.requests.filter((request) => request.includes('/ml-inference'))).toEqual([]);
    await page.screenshot({ path: screenshotPath('classifier-error'), fullPage: true });
  });

  it('replaces an error with the next result', async () => {
    const { page } = await classifierPage();
    await page.fill('#image-url', 'ftp://example.com/x.jpg');
    await page.press('#image-url', 'Enter');
    await classifyError(page);
    await page.setInputFiles('#image-file', { name: 'red.png', mimeType: 'image/png', buffer: MOSTLY_RED });
    expect((await predictions(page))[0]?.label).toBe('red');
    await expect.poll(() => page.textContent('#classify-error'), { timeout: DEADLINE_MS }).toBe('');
  });
});

describe.skipIf(chromiumPath === undefined)('the image classifier in Chromium, before any model is installed', () => {
  let bare: Stack;

  beforeAll(async () => {
    bare = await startStack({ model: false });
  });

  afterAll(async () => {
    await bare?.close();
  });

  it("shows the API's 503 with how to install a model", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(`${bare.url}/`);
    await page.waitForFunction(() => document.documentElement.dataset['ready'] === 'true', undefined, { timeout: 60_000 });
    await page.setInputFiles('#image-file', { name: 'red.png', mimeType: 'image/png', buffer: MOSTLY_RED });
    expect(await classifyError(page)).toMatch(/^Not classified: 503 Service Unavailable ENOMODEL: .*model/);
  });
});
