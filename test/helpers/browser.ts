/**
 * A real headless browser for the HTML pages (issue 19): Debian's `chromium` driven by
 * puppeteer-core. `browserSkip` is a message when none is installed (.ci/run installs it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

function findChromium(): string | null {
  for (const name of [process.env.THREADMILL_CHROMIUM, 'chromium', 'chromium-browser', 'google-chrome']) {
    if (!name) continue;
    const r = spawnSync('sh', ['-c', 'command -v "$0"', name], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

export const chromiumPath = findChromium();
export const browserSkip: string | false = chromiumPath ? false : 'no chromium installed (apt-get install chromium); the HTML pages are not loaded in a browser';

export async function launchBrowser(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath!,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', `--user-data-dir=${mkdtempSync(join(tmpdir(), 'tm-chromium-'))}`],
  });
}

export interface LoadedPage { page: Page; problems: string[]; requests: string[] }

/** Opens `url`, recording console errors, page errors and every request the page makes. */
export async function openPage(browser: Browser, url: string): Promise<LoadedPage> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1150, height: 900 });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('body[data-ready="true"]', { timeout: 10_000 });
  return { page, problems, requests };
}

/** The `data-label` → `data-value` marks of one chart. */
export async function chartValues(page: Page, chart: string, selector = 'rect[data-value]'): Promise<Map<string, number>> {
  const pairs = await page.$$eval(`[data-chart="${chart}"] ${selector}`, (els) => els.map((e) => [e.getAttribute('data-label')!, Number(e.getAttribute('data-value'))] as [string, number]));
  return new Map(pairs);
}
