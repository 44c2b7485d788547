// Keyboard and screen reader: axe-core run inside the page (no serious or critical violation in any
// view), the focus order, labels and live regions; and the page's headers as the browser gets them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { chromiumPath, DEADLINE_MS, launchBrowser, screenshotPath, warnIfNoChromium, watchPage } from '../helpers/browser.js';
import { png } from '../helpers/png.js';
import { startStack, type Stack } from '../helpers/stack.js';

warnIfNoChromium('tests/browser/accessibility.test.ts');

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

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

async function openPage(path = '/', options: { colorScheme?: 'light' | 'dark'; width?: number } = {}): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: options.width ?? 1280, height: 900 },
    colorScheme: options.colorScheme ?? 'light',
  });
  contexts.push(context);
  const page = await context.newPage();
  await watchPage(page, stack.url);
  await page.goto(`${stack.url}${path}`);
  await page.waitForFunction(() => document.documentElement.dataset['ready'] === 'true', undefined, { timeout: 60_000 });
  return page;
}

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

/**
 * Runs axe-core in the page. It is evaluated through the DevTools protocol, which the page's CSP
 * does not govern (an injected <script> would be refused, as it should be).
 */
async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(context: Document, options: object): Promise<{ violations: AxeViolation[]; passes: unknown[] }> } }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    // axe really ran its rules (a broken injection would find nothing to complain about).
    if (result.passes.length < 10) throw new Error(`axe-core ran only ${result.passes.length} passing rules`);
    return result.violations.map((violation) => ({
      id: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => ({
        target: node.target,
        ...(node.failureSummary === undefined ? {} : { failureSummary: node.failureSummary }),
      })),
    }));
  });
  return violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
}

async function postThroughApi(wall: string, message: string): Promise<void> {
  const response = await fetch(`${stack.url}/message-wall/${wall}`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: message,
  });
  expect(response.status).toBe(200);
}

describe.skipIf(chromiumPath === undefined)('accessibility and headers in Chromium', () => {
  it('has no serious or critical axe violation on the first view, in light and dark mode', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await openPage('/', { colorScheme });
      expect(await seriousViolations(page), colorScheme).toEqual([]);
      await page.screenshot({ path: screenshotPath(`first-view-${colorScheme}`), fullPage: true });
    }
  });

  it('has no serious or critical axe violation with messages, errors, predictions and the delete dialog', async () => {
    await postThroughApi('a11y', 'A message to read');
    await postThroughApi('a11y', '\u202Eright-to-left override');
    const page = await openPage('/?wall=a11y');
    await page.waitForSelector('#messages li', { timeout: DEADLINE_MS });
    await page.fill('#message', 'x'.repeat(70_000));
    await page.press('#message', 'Enter');
    await page.waitForFunction(() => (document.querySelector('#wall-error')?.textContent ?? '') !== '', undefined, {
      timeout: DEADLINE_MS,
    });
    await page.setInputFiles('#image-file', { name: 'red.png', mimeType: 'image/png', buffer: png([220, 30, 30]) });
    await page.waitForSelector('#predictions li', { timeout: 120_000 });
    expect(await seriousViolations(page)).toEqual([]);
    await page.click('#delete-button');
    await page.waitForSelector('#delete-dialog[open]', { timeout: DEADLINE_MS });
    expect(await seriousViolations(page)).toEqual([]);
  });

  it('fits a 360-pixel-wide phone screen without horizontal scrolling', async () => {
    await postThroughApi('a11y-narrow', `${'N'.repeat(500)} and a long word before it`);
    const page = await openPage('/?wall=a11y-narrow', { width: 360 });
    await page.waitForSelector('#messages li', { timeout: DEADLINE_MS });
    await page.setInputFiles('#image-file', {
      name: 'a-file-name-without-any-space-that-goes-on-and-on.png',
      mimeType: 'image/png',
      buffer: png([30, 200, 30]),
    });
    await page.waitForSelector('#predictions li', { timeout: 120_000 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBe(0);
    expect(await seriousViolations(page)).toEqual([]);
    await page.screenshot({ path: screenshotPath('narrow'), fullPage: true });
  });

  it('labels every control and reaches them by Tab in reading order', async () => {
    await postThroughApi('a11y-tab', 'a message, so that the list is shown');
    const page = await openPage('/?wall=a11y-tab');
    const unlabelled = await page.$$eval('input, button', (controls) =>
      controls
        .filter((control) => !control.closest('dialog'))
        .filter((control) => ((control as HTMLInputElement).labels?.length ?? 0) === 0 && (control.textContent ?? '').trim() === '')
        .map((control) => control.id),
    );
    expect(unlabelled).toEqual([]);
    const order: string[] = [];
    for (let i = 0; i < 10; i += 1) {
      await page.keyboard.press('Tab');
      order.push(
        await page.evaluate(
          () =>
            document.activeElement?.id ||
            (document.activeElement?.tagName === 'BUTTON'
              ? (document.activeElement.textContent ?? '').trim()
              : (document.activeElement?.tagName ?? '')),
        ),
      );
    }
    // Top to bottom, each section's controls together; the message list (shown when it has messages)
    // is focusable, to scroll it by keyboard.
    expect(order).toEqual([
      'wall-id',
      'Open',
      'wall-new',
      'messages',
      'message',
      'post-button',
      'delete-button',
      'image-file',
      'image-url',
      'Classify URL',
    ]);
  });

  it('announces results and errors through live regions', async () => {
    const page = await openPage('/');
    const regions = await page.evaluate(() =>
      ['wall-error', 'wall-status', 'classify-error', 'classify-status'].map((id) => {
        const node = document.getElementById(id);
        return `${id}:${node?.getAttribute('role') ?? node?.getAttribute('aria-live') ?? 'none'}`;
      }),
    );
    expect(regions).toEqual(['wall-error:alert', 'wall-status:status', 'classify-error:alert', 'classify-status:status']);
  });

  it('serves the page and its assets with the security and caching headers', async () => {
    const page = await openPage('/');
    const html = await fetch(`${stack.url}/`);
    expect(html.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(html.headers.get('x-content-type-options')).toBe('nosniff');
    expect(html.headers.get('cache-control')).toBe('no-cache');
    expect(html.headers.get('content-encoding')).toBe('gzip'); // fetch asks for gzip and decodes it
    expect(await html.text()).toMatch(/^<!doctype html>/);
    const head = await fetch(`${stack.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toBe(html.headers.get('content-security-policy'));
    expect(await head.text()).toBe('');
    expect((await fetch(`${stack.url}/`, { method: 'POST' })).status).toBe(404); // no such route: API Gateway's Not Found
    const assets = await page.evaluate(() => [
      ...[...document.querySelectorAll('script[src]')].map((node) => (node as HTMLScriptElement).src),
      ...[...document.querySelectorAll('link[rel="stylesheet"]')].map((node) => (node as HTMLLinkElement).href),
    ]);
    expect(assets).toHaveLength(2);
    for (const url of assets) {
      expect(url).toMatch(/\/assets\/app\.[0-9a-f]{8}\.(js|css)$/);
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect((await fetch(`${stack.url}/assets/app.00000000.js`)).status).toBe(404);
  });

  it('refuses inline script: a script injected into the page is blocked by the CSP', async () => {
    const page = await openPage('/');
    const outcome = await page.evaluate(async () => {
      const flag = window as unknown as { __ran?: boolean };
      flag.__ran = false;
      let thrown = '';
      try {
        const script = document.createElement('script');
        script.text = 'window.__ran = true';
        document.body.append(script);
        await new Promise((resolve) => setTimeout(resolve, 0));
      } catch (error) {
        thrown = (error as Error).name;
      }
      let html = '';
      try {
        document.body.insertAdjacentHTML('beforeend', '<b>markup</b>');
      } catch (error) {
        html = (error as Error).name;
      }
      return { ran: flag.__ran, thrown, html };
    });
    // Trusted Types with no policy: both sinks throw before anything is parsed.
    expect(outcome).toEqual({ ran: false, thrown: 'TypeError', html: 'TypeError' });
  });
});
