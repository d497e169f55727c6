// Time to interactive in Chromium: navigation start to the moment the page is hydrated (the app
// sets <html data-hydrated="true"> when its WASM has taken over), median of N loads per page.
// Then client-side navigation: a click on a sidebar link to the next page's data on screen
// (its panel or table rendered), alternating /members and /security, median of N. Then a first
// visit: the same time to interactive with an empty cache on a throttled network (Lighthouse's
// slow-4G figures applied by DevTools: 150 ms added to each request, 1.6 Mbps down, 750 Kbps up;
// the CPU not slowed), median of N/4 loads per page, and on that page the first click into another
// section.
// Usage: node bench/interactive.mjs <base URL> <runs> <path>...   Prints JSON.
import { chromium } from '@playwright/test';
import { recordHydration } from './hydration-time.mjs';

const [base, runsText, ...paths] = process.argv.slice(2);
const runs = Number(runsText);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const context = await browser.newContext();
await context.addInitScript(recordHydration);
// Resolves when the page being loaded says it is hydrated; set up before the load starts.
const hydration = (page) =>
  page.waitForEvent('console', { predicate: (message) => message.text() === 'keystone-bench: hydrated', timeout: 15000 });
// The median, the extremes and the count of a figure's samples.
const summary = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median_ms: sorted[Math.floor(sorted.length / 2)], min_ms: sorted[0], max_ms: sorted[sorted.length - 1], runs: sorted.length };
};
const page = await context.newPage();
// Sign in once, through the sandbox's page, as Ada.
await page.goto(`${base}/`);
await page.getByRole('button', { name: /Ada Okafor/ }).click();
await page.waitForURL(`${base}/`);

const result = {};
for (const path of paths) {
  const times = [];
  for (let run = 0; run < runs + 2; run++) {
    const hydrated = hydration(page);
    await page.goto(`${base}${path}`, { waitUntil: 'commit' });
    await hydrated;
    const at = await page.evaluate(() => window.__hydratedAt);
    if (run >= 2) times.push(at); // two warm-up loads: the browser cache as a returning user has it
  }
  result[path] = summary(times);
}
// Measured inside the page: from the click to the first frame holding the target page's table.
const navigate = (onPage, linkText, selector) =>
  onPage.evaluate(async ({ linkText, selector }) => {
    const link = [...document.querySelectorAll('nav a')].find((a) => a.textContent.trim() === linkText);
    if (!link) throw new Error(`no sidebar link ${linkText}`);
    const started = performance.now();
    link.click();
    // Ten seconds at most: an error page never shows the table, and the bench must end.
    await new Promise((resolve, reject) => {
      const check = () => {
        if (document.querySelector(selector)) resolve();
        else if (performance.now() - started > 10000) reject(new Error(`${selector} not shown after ${linkText}`));
        else requestAnimationFrame(check);
      };
      check();
    });
    return performance.now() - started;
  }, { linkText, selector });
const membersHydrated = hydration(page);
await page.goto(`${base}/members`);
await membersHydrated;
const navigation = [];
for (let run = 0; run < runs + 2; run++) {
  const toSecurity = await navigate(page, 'Security', '[data-testid="allowlist"]');
  const toMembers = await navigate(page, 'Members', '[data-testid="members-table"]');
  if (run >= 2) navigation.push(toSecurity, toMembers);
}

// A first visit: a new context each time (an empty cache, the session cookie kept), its network
// throttled before the page is asked for.
const signedIn = await context.storageState();
const firstVisits = Math.max(1, Math.round(runs / 4));
const firstVisit = {};
// Then, on the same throttled page, the first click into another section (/members and /security
// are in different sections), three seconds after it hydrated, as a member who read the page first.
const nextPage = {
  '/members': ['Security', '[data-testid="allowlist"]'],
  '/security': ['Members', '[data-testid="members-table"]'],
};
const firstNavigation = {};
for (const path of paths) {
  const times = [];
  const clicks = [];
  for (let run = 0; run < firstVisits; run++) {
    const visit = await browser.newContext({ storageState: signedIn });
    await visit.addInitScript(recordHydration);
    const visitPage = await visit.newPage();
    const devtools = await visit.newCDPSession(visitPage);
    await devtools.send('Network.enable');
    await devtools.send('Network.emulateNetworkConditions', {
      offline: false, latency: 150, downloadThroughput: (1638.4 * 1024) / 8, uploadThroughput: (750 * 1024) / 8,
    });
    const hydrated = hydration(visitPage);
    await visitPage.goto(`${base}${path}`, { waitUntil: 'commit' });
    // A signed-out visit lands on the sign-in page, which never hydrates: said at once.
    if (new URL(visitPage.url()).pathname !== path) throw new Error(`${path} led to ${visitPage.url()}`);
    await hydrated;
    times.push(await visitPage.evaluate(() => window.__hydratedAt));
    if (nextPage[path]) {
      await visitPage.waitForTimeout(3000);
      clicks.push(await navigate(visitPage, ...nextPage[path]));
    }
    await visit.close();
  }
  firstVisit[path] = summary(times);
  if (clicks.length > 0) firstNavigation[path] = summary(clicks);
}
await browser.close();
console.log(JSON.stringify({
  interactive: result,
  first_visit: firstVisit,
  first_navigation: firstNavigation,
  navigation: summary(navigation),
}));
