import { mkdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser } from 'playwright-core';

/**
 * The pages in a real browser: Debian's chromium, headless, driven by playwright-core (.ci/run installs it;
 * CHROMIUM_PATH points elsewhere). Screenshots go to test-artifacts/.
 */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
}

/** A page opened from its file, with what it did that it must not: console errors and warnings, page errors, dialogs, every request. */
export async function openPage(browser: Browser, path: string, colorScheme: 'light' | 'dark' = 'light') {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, colorScheme });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (message) => void (message.type() === 'error' || message.type() === 'warning' ? problems.push(message.text()) : undefined));
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('dialog', (dialog) => void problems.push(`dialog: ${dialog.message()}`));
  page.on('request', (request) => void requests.push(request.url()));
  await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
  return { page, problems, requests, close: () => context.close() };
}
