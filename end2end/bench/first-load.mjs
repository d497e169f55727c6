// What a browser fetches from /pkg for each route's first load, up to the moment the page is
// hydrated (the bundle, the route's chunks, the stylesheet): the files as the browser asked for
// them, whatever the page names in its HTML or the bundle loads by itself.
// Usage: node bench/first-load.mjs <base URL> <path>...   Prints JSON: { path: [file, ...] }.
import { chromium } from '@playwright/test';
import { recordHydration } from './hydration-time.mjs';

const [base, ...paths] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext();
const page = await context.newPage();
await page.goto(`${base}/`);
await page.getByRole('button', { name: /Ada Okafor/ }).click();
await page.waitForURL(`${base}/`);
// The cache off: each route's first load, as a new visitor's browser makes it.
const devtools = await context.newCDPSession(page);
await devtools.send('Network.enable');
await devtools.send('Network.setCacheDisabled', { cacheDisabled: true });

// When the page hydrated, on its own clock: once it has, the loader fetches the other sections'
// chunks into the cache while idle (src/app/hydration.rs), which is not part of the first load.
await context.addInitScript(recordHydration);

const result = {};
for (const path of paths) {
  await page.goto(`${base}${path}`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 15000 });
  // The files under /pkg/ asked for before the page was hydrated (every one of them has ended by
  // then, so resource timing lists them all).
  result[path] = await page.evaluate(() =>
    [...new Set(performance.getEntriesByType('resource')
      .filter(({ name, startTime }) => new URL(name).pathname.startsWith('/pkg/') && startTime < window.__hydratedAt)
      .map(({ name }) => new URL(name).pathname))].sort());
}
console.log(JSON.stringify(result));
await browser.close();
