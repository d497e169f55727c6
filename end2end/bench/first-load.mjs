// What a browser fetches from /pkg for each route's first load, up to the moment the page is
// hydrated (the bundle, the route's chunks, the stylesheet): the files as the browser asked for
// them, whatever the page names in its HTML or the bundle loads by itself.
// Usage: node bench/first-load.mjs <base URL> <path>...   Prints JSON: { path: [file, ...] }.
import { chromium } from '@playwright/test';

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

const result = {};
for (const path of paths) {
  const files = new Set();
  const listen = (request) => {
    const url = new URL(request.url());
    if (url.pathname.startsWith('/pkg/')) files.add(url.pathname);
  };
  page.on('request', listen);
  await page.goto(`${base}${path}`);
  await page.waitForSelector('html[data-hydrated="true"]', { timeout: 15000 });
  page.off('request', listen);
  result[path] = [...files].sort();
}
console.log(JSON.stringify(result));
await browser.close();
