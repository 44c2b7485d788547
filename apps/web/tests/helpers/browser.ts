// Headless Chromium from the system (Debian's `chromium` package), driven by playwright-core.
// Where there is none, the browser tests are skipped with a loud message instead of failing:
// .ci/run installs it when it runs as root.
import { accessSync, constants, mkdirSync } from 'node:fs';

import { chromium, type Browser, type Page } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser to drive: `$CHROMIUM_PATH`, else the first of the usual system paths that exists. */
function findChromium(): string | undefined {
  const override = process.env['CHROMIUM_PATH'];
  const paths = override === undefined || override === '' ? CANDIDATES : [override];
  return paths.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export const chromiumPath = findChromium();

/** Say loudly, once per file, that the browser tests did not run. */
export function warnIfNoChromium(file: string): void {
  if (chromiumPath !== undefined) return;
  const line = '!'.repeat(100);
  process.stderr.write(
    `\n${line}\n!! SKIPPED: ${file}: no Chromium found (looked for ${process.env['CHROMIUM_PATH'] ?? CANDIDATES.join(', ')}).\n` +
      '!! The web page was NOT tested in a browser. Install it (Debian/Ubuntu: apt-get install -y chromium), or set CHROMIUM_PATH.\n' +
      `${line}\n\n`,
  );
}

export async function launchBrowser(): Promise<Browser> {
  if (chromiumPath === undefined) throw new Error('No Chromium: install it (apt-get install -y chromium) or set CHROMIUM_PATH.');
  // Chromium refuses to run its sandbox as root; elsewhere the sandbox stays on.
  const root = process.getuid?.() === 0;
  try {
    return await chromium.launch({ executablePath: chromiumPath, headless: true, args: root ? ['--no-sandbox'] : [] });
  } catch (error) {
    // Some CI hosts forbid the user namespaces the sandbox needs (Ubuntu 24.04's AppArmor rule).
    // The tests only load a page from 127.0.0.1, so they go on without it, and say so.
    if (root || !/sandbox/i.test(String(error))) throw error;
    process.stderr.write(`Chromium's sandbox is not available here (${String(error).split('\n')[0]}); running it with --no-sandbox.\n`);
    return chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
  }
}

/** Screenshots go to apps/web/test-results/ (git-ignored). */
const RESULTS_DIR = new URL('../../test-results/', import.meta.url);
mkdirSync(RESULTS_DIR, { recursive: true });

export function screenshotPath(name: string): string {
  return new URL(`${name}.png`, RESULTS_DIR).pathname;
}

/** What a page did that it must not: dialogs, requests to other origins, CSP violations, errors. */
export interface PageWatch {
  readonly dialogs: string[];
  readonly foreignRequests: string[];
  readonly requests: string[];
  readonly pageErrors: string[];
}

/**
 * Records everything the page requests and every dialog it opens (and dismisses them), and collects
 * `securitypolicyviolation` events in the page: a violation means some text reached an HTML or
 * script sink, even if the policy then blocked it.
 */
export async function watchPage(page: Page, origin: string): Promise<PageWatch> {
  const watch: PageWatch = { dialogs: [], foreignRequests: [], requests: [], pageErrors: [] };
  page.on('dialog', (dialog) => {
    watch.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss().catch(() => undefined);
  });
  page.on('request', (request) => {
    const url = request.url();
    watch.requests.push(`${request.method()} ${url}`);
    if (!url.startsWith(`${origin}/`) && !url.startsWith('blob:') && !url.startsWith('data:')) watch.foreignRequests.push(url);
  });
  page.on('pageerror', (error) => watch.pageErrors.push(error.message));
  await page.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { __violations: string[] }).__violations = violations;
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective}: ${event.blockedURI}`));
  });
  return watch;
}

/** The CSP violations the page saw (see {@link watchPage}). */
export function violations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __violations?: string[] }).__violations ?? []);
}

/** Generous deadline for DOM conditions on a loaded 2-core machine. */
export const DEADLINE_MS = 30_000;
