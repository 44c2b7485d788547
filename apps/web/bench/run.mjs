#!/usr/bin/env node
/* global document, window */
// Time to interactive of the page's first load through the local runtime, and its weight, in
// headless Chromium (the same one the browser tests drive). Not a test: it prints a Markdown table
// for BENCHMARKS.md.
//
//   pnpm --filter @lambda-efs/web bench [-- --rounds 20 --cold 3]
//
// "Interactive" is the moment the page's script has opened the wall (first GET /message-wall
// answered and rendered) and set data-ready: the `app-ready` performance mark. Each load uses a new
// browser context (empty HTTP cache). Cold loads are the first load after the runtime starts, so
// the web and message-wall execution environments start with it (Lambda's cold start).
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { startLocalApi } from '@lambda-efs/local-runtime';
import { accessPoint, functionDefinition as messageWall } from '@lambda-efs/message-wall/function';
import { chromium } from 'playwright-core';

import { functionDefinition as web } from '../dist/function.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '20' }, cold: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);
const coldRounds = Number(values.cold);
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(executablePath)) {
  process.stderr.write(`No Chromium at ${executablePath}: install it (apt-get install -y chromium) or set CHROMIUM_PATH.\n`);
  process.exit(1);
}

async function startApi(efsRoot) {
  return startLocalApi({
    functions: [web, messageWall],
    accessPoints: [accessPoint],
    efsRoot,
    port: 0,
    watch: false,
    logSink: (line) => {
      if (process.env.BENCH_LOGS) process.stderr.write(`${line}\n`);
    },
  });
}

/** One first visit in a fresh context: timings from the page's own performance entries. */
async function load(browser, url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', undefined, { timeout: 60_000 });
    const first = await measure(page);
    // A second visit in the same context: the page is revalidated (304), the assets come from the cache.
    await page.goto(`${url}/`);
    await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', undefined, { timeout: 60_000 });
    const repeat = await measure(page);
    return { first, repeat };
  } finally {
    await context.close();
  }
}

function measure(page) {
  return page.evaluate(() => {
    const [navigation] = window.performance.getEntriesByType('navigation');
    const resources = window.performance.getEntriesByType('resource').filter((entry) => entry.name.includes('/assets/'));
    const ready = window.performance.getEntriesByName('app-ready')[0];
    const site = [navigation, ...resources];
    return {
      ttfb: navigation.responseStart,
      domContentLoaded: navigation.domContentLoadedEventEnd,
      ready: ready.startTime,
      transferred: site.reduce((sum, entry) => sum + entry.transferSize, 0),
      encoded: site.reduce((sum, entry) => sum + entry.encodedBodySize, 0),
      decoded: site.reduce((sum, entry) => sum + entry.decodedBodySize, 0),
      files: site.length,
    };
  });
}

const percentile = (values, p) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (value) => `${value.toFixed(0)} ms`;

const dir = await mkdtemp(join(tmpdir(), 'web-bench-'));
await chmod(dir, 0o755);
const browser = await chromium.launch({ executablePath, headless: true, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
try {
  const cold = [];
  for (let i = 0; i < coldRounds; i += 1) {
    const api = await startApi(join(dir, `.efs-${i}`));
    try {
      cold.push((await load(browser, api.url)).first);
    } finally {
      await api.close();
    }
  }
  const api = await startApi(join(dir, '.efs-warm'));
  const warm = [];
  const repeat = [];
  try {
    await load(browser, api.url); // starts the environments
    for (let i = 0; i < rounds; i += 1) {
      const result = await load(browser, api.url);
      warm.push(result.first);
      repeat.push(result.repeat);
    }
  } finally {
    await api.close();
  }
  const row = (name, samples) => {
    const pick = (key) => samples.map((sample) => sample[key]);
    return `| ${name} | ${samples.length} | ${ms(percentile(pick('ttfb'), 50))} | ${ms(percentile(pick('domContentLoaded'), 50))} | ${ms(percentile(pick('ready'), 50))} | ${ms(percentile(pick('ready'), 90))} | ${samples[0].transferred} B |`;
  };
  const sample = warm[0];
  process.stdout.write(
    `Chromium ${browser.version()}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, Node.js ${process.version}\n\n` +
      '| load | n | TTFB p50 | DOMContentLoaded p50 | interactive p50 | interactive p90 | transferred (with headers) |\n' +
      '| --- | --- | --- | --- | --- | --- | --- |\n' +
      `${row('first visit, cold environments', cold)}\n` +
      `${row('first visit, warm environments', warm)}\n` +
      `${row('repeat visit (304 + cached assets)', repeat)}\n\n` +
      `Page weight (page + script + stylesheet, ${sample.files} files): ${sample.encoded} bytes gzipped on the wire, ${sample.decoded} bytes uncompressed.\n`,
  );
} finally {
  await browser.close();
  await rm(dir, { recursive: true, force: true });
}
