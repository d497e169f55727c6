import { test, expect, signIn, waitForHydration, recordHydrationTime, setFaults, failNext, MAIN_PAGES } from './fixtures';

test('the shell renders on the server with JavaScript disabled', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  // Signing in needs no JavaScript either: links, a form post and redirects.
  await signIn(page, '/members');
  const response = await page.reload();
  expect(response?.status()).toBe(200);

  const nav = page.getByRole('navigation', { name: 'Primary' });
  for (const link of ['Overview', 'Members', 'Roles', 'Environments', 'Security', 'Activity']) {
    await expect(nav.getByRole('link', { name: link })).toBeVisible();
  }
  await expect(nav.getByRole('link', { name: 'Members' })).toHaveAttribute('aria-current', 'page');
  await expect(page.getByRole('heading', { level: 1, name: 'Members' })).toBeVisible();
  await expect(page.getByTestId('environment-switcher')).toBeVisible();
  await expect(page).toHaveTitle('Members · KeyStone Dashboard');
  // Without JavaScript nothing hydrates: what is visible came from the server.
  await expect(page.locator('html[data-hydrated]')).toHaveCount(0);
  await context.close();
});

test('after hydration, navigation happens in the page without a full reload', async ({ page }) => {
  await signIn(page, '/');
  await waitForHydration(page);
  // A full document load would wipe this marker.
  await page.evaluate(() => ((window as any).__sameDocument = true));

  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Roles' }).click();
  await expect(page).toHaveURL(/\/roles$/);
  await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
  await expect(page).toHaveTitle('Roles · KeyStone Dashboard');

  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Security' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Security' })).toBeVisible();
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test("the skip link moves the focus to the page's content", async ({ page }) => {
  await signIn(page, '/members');
  await waitForHydration(page);
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('#main')).toBeFocused();
  // The next stop is in the page's content, not the sidebar's first link.
  await page.keyboard.press('Tab');
  expect(await page.evaluate(() => !!document.activeElement?.closest('#main'))).toBe(true);
});

test('the account menu closes as a menu does: on Escape, on a press elsewhere, on another page', async ({ page }) => {
  await signIn(page, '/members');
  await waitForHydration(page);
  const button = page.locator('summary.user-menu__button');
  const signOut = page.getByTestId('sign-out');

  await button.click();
  await expect(signOut).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(signOut).toBeHidden();
  await expect(button).toBeFocused();

  await button.click();
  await expect(signOut).toBeVisible();
  await page.getByRole('heading', { level: 1, name: 'Members' }).click();
  await expect(signOut).toBeHidden();

  // Left open, then the page changes (the browser's Back): it is not left floating over the next.
  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Roles' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
  await button.click();
  await expect(signOut).toBeVisible();
  await page.goBack();
  await expect(page.getByRole('heading', { level: 1, name: 'Members' })).toBeVisible();
  await expect(signOut).toBeHidden();
});

test('the environment is a session setting: switching reaches the server and survives a reload', async ({ page }) => {
  await signIn(page, '/');
  await waitForHydration(page);
  // The form's Switch button is for pages without WASM; once hydrated, a change submits by itself.
  await expect(page.getByRole('button', { name: 'Switch' })).toBeHidden();
  await expect(page.locator('.production-banner')).toHaveCount(0);

  // The switcher reloads the page itself once the session has the new environment; a reload of
  // ours racing that one aborts, so each switch waits for the page's own reload first.
  let reloaded = page.waitForEvent('load');
  await page.getByTestId('environment-switcher').selectOption('production');
  await reloaded;
  await expect(page.getByRole('status').filter({ hasText: 'Production' })).toBeVisible();
  await expect(page.locator('header.topbar')).toHaveClass(/topbar--production/);
  await page.reload();
  await expect(page.getByTestId('environment-switcher')).toHaveValue('production');
  await expect(page.locator('.production-banner')).toBeVisible();

  await waitForHydration(page);
  reloaded = page.waitForEvent('load');
  await page.getByTestId('environment-switcher').selectOption('staging');
  await reloaded;
  await expect(page.locator('.production-banner')).toHaveCount(0);
  await page.reload();
  await expect(page.getByTestId('environment-switcher')).toHaveValue('staging');
});

test.describe('a switch that fails', () => {
  // One pattern: Playwright reads a two-element array as [value, options].
  test.use({ expectedConsoleErrors: [/status of 503 .*\/api\/environment|net::ERR_/] });

  test('whose reply is lost reloads, and the switcher names where the session is', async ({ page }) => {
    await signIn(page, '/members');
    await waitForHydration(page);
    // The server switches; its answer never reaches the page.
    await page.route('**/api/environment', async (route) => {
      await route.fetch();
      await route.abort('connectionreset');
    });
    const reloaded = page.waitForEvent('load');
    await page.getByTestId('environment-switcher').selectOption('staging');
    await reloaded;
    await page.unroute('**/api/environment');
    await expect(page.getByTestId('environment-switcher')).toHaveValue('staging');
  });

  test('leaves the switcher naming the environment the session is still in', async ({ page }) => {
    await signIn(page, '/members');
    await waitForHydration(page);
    const switcher = page.getByTestId('environment-switcher');
    await expect(switcher).toHaveValue('development');
    // The environment list cannot be read, so the switch cannot be checked and is refused
    // (reads are retried: every try fails).
    await setFaults(failNext('GET', '/v1/platforms/me/environments', 503, 10));
    try {
      await switcher.selectOption('staging');
      await expect(page.locator('.env-switcher-form [role=alert]')).toBeVisible();
      await expect(switcher).toHaveValue('development');
    } finally {
      await setFaults({});
    }
    await page.reload();
    await expect(page.getByTestId('environment-switcher')).toHaveValue('development');
  });
});

test('a keyboard choice in the switcher waits for Enter: arrow keys do not switch at each press', async ({ page }) => {
  await signIn(page, '/members');
  await waitForHydration(page);
  const switcher = page.getByTestId('environment-switcher');
  let switched = 0;
  page.on('request', (request) => {
    if (request.url().endsWith('/api/environment')) switched += 1;
  });
  await switcher.focus();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await expect(switcher).not.toHaveValue('development');
  // Nothing was sent; the Switch button shows for the choice, and Enter makes it.
  await expect(page.getByTestId('environment-switch')).toBeVisible();
  expect(switched).toBe(0);
  const chosen = await switcher.inputValue();
  const reloaded = page.waitForEvent('load');
  await page.keyboard.press('Enter');
  await reloaded;
  expect(switched).toBe(1);
  await expect(page.getByTestId('environment-switcher')).toHaveValue(chosen);
});

test('without JavaScript the switcher still works, through its Switch button', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, '/roles');
  await page.getByTestId('environment-switcher').selectOption('staging');
  await page.getByRole('button', { name: 'Switch' }).click();
  // Back where the form was (the server function's plain-form reply redirects to the referrer).
  await expect(page).toHaveURL(/\/roles\??$/);
  await expect(page.getByTestId('environment-switcher')).toHaveValue('staging');
  await context.close();
});

test.describe('a missing page', () => {
  test.use({ expectedConsoleErrors: [/status of 404/] });

  test('shows the 404 page inside the shell', async ({ page }) => {
    await signIn(page, '/');
    const response = await page.goto('/definitely/not/here');
    expect(response?.status()).toBe(404);
    await expect(page.getByTestId('not-found')).toBeVisible();
    await expect(page.getByRole('navigation', { name: 'Primary' })).toBeVisible();
    await waitForHydration(page);
    await page.getByRole('link', { name: 'Go to the overview' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Overview' })).toBeVisible();
  });
});

/** Pages come in one WASM chunk per section (see src/app/pages/mod.rs): each page must hydrate
 * when it is the page loaded first, and load and render when it is reached by a click. */
const routes = MAIN_PAGES;

/** The browser asks pages to save data, as Chromium's `navigator.connection` says it when the
 * member has turned Save-Data on: the dashboard then fetches a section's code on the first click
 * into it only, not while idle after the page hydrates (src/app/hydration.rs). */
const saveData = () =>
  Object.defineProperty(Navigator.prototype, 'connection', {
    configurable: true,
    get: () => ({ saveData: true, effectiveType: '4g' }),
  });

/** A section's chunk, from its URL (`/pkg/split_<section>_section_<hash>...wasm`). */
const sectionOf = (url: string) => url.match(/\/pkg\/split_(\w+?)_section_/)?.[1];

test('every page hydrates when entered directly and, with Save-Data on, loads its section when reached by a click', async ({ page }) => {
  await page.addInitScript(saveData);
  await signIn(page, '/');
  const primary = page.getByRole('navigation', { name: 'Primary' });
  for (const { path, heading } of routes) {
    await page.goto(path);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    // Hydrated means the router answers: a click navigates inside the document.
    await page.evaluate(() => ((window as any).__sameDocument = true));
    const elsewhere = path === '/members' ? routes[2] : routes[1];
    await primary.getByRole('link', { name: elsewhere.link, exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: elsewhere.heading })).toBeVisible();
    expect(await page.evaluate(() => (window as any).__sameDocument), `${path} hydrated`).toBe(true);
  }
  // From one page entered directly, every other page by a click: the click into a section not
  // yet loaded fetches that section's chunk and no other; a click within a loaded section (the
  // first load's own included) fetches none. The split loader keeps what it loaded for the
  // document, so a second fetch of a section would mean a failed load was retried.
  const start = '/activity';
  await page.goto(start);
  await waitForHydration(page);
  const fetched: string[] = [];
  page.on('request', (request) => {
    const section = sectionOf(request.url());
    if (section) fetched.push(section);
  });
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const firstLoad = routes.find(({ path }) => path === start)!.section;
  const loaded = new Set([firstLoad]);
  for (const { path, link, heading, section } of routes) {
    const before = fetched.length;
    await primary.getByRole('link', { name: link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path === '/' ? '/' : path}$`));
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    expect(fetched.slice(before), `chunks fetched on the way to ${path}`).toEqual(loaded.has(section) ? [] : [section]);
    loaded.add(section);
  }
  const others = [...new Set(routes.map(({ section }) => section))].filter((section) => section !== firstLoad);
  expect([...fetched].sort(), 'each other section fetched once').toEqual(others.sort());
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
  // Nothing fetched ahead: the warm-up starts with the split manifest, which was never asked for
  // (the request listener above starts after hydration, so it alone could miss a warm-up).
  const manifestFetched = await page.evaluate(() => performance.getEntriesByType('resource').some(({ name }) => name.includes('/pkg/__wasm_split_manifest.')));
  expect(manifestFetched, 'the split manifest fetched with Save-Data on').toBe(false);
});

test("a page entered directly asks for its section's code with the bundle, once each, not when hydration reaches the route", async ({ page }) => {
  // Save-Data keeps the idle warm-up from asking for every chunk again after hydration; a page's
  // own section is fetched ahead either way, since hydrating the page needs it.
  await page.addInitScript(saveData);
  await signIn(page, '/');
  // The sign-in's landing page ends its own loads first; they would be counted with the next's.
  await waitForHydration(page);
  for (const { path, section } of routes) {
    const requested: string[] = [];
    const onRequest = (request: { url: () => string }) => {
      const { pathname } = new URL(request.url());
      if (pathname.startsWith('/pkg/')) requested.push(pathname);
    };
    page.on('request', onRequest);
    await page.goto(path);
    await waitForHydration(page);
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    page.off('request', onRequest);
    const named = (await page.evaluate(() => document.querySelector('meta[name="keystone-route-chunks"]')?.getAttribute('content') ?? '')).split(' ').filter(Boolean);
    expect(named.map(sectionOf).filter(Boolean), `${path} names its section's chunk`).toEqual([section]);
    // The main JS imports the split loader's JS as soon as it is parsed, and the split loader asks
    // for a section only once the main module runs and reaches the route: a chunk asked for before
    // the split loader's JS was asked for with the bundle, by the page's preload.
    const splitLoader = requested.findIndex((pathname) => pathname.startsWith('/pkg/__wasm_split.'));
    expect(splitLoader, `${path} imported the split loader`).toBeGreaterThan(-1);
    for (const chunk of named) {
      const asked = requested.indexOf(chunk);
      expect(asked, `${chunk} asked for on ${path}`).toBeGreaterThan(-1);
      expect(asked, `${chunk} asked for before the split loader on ${path}`).toBeLessThan(splitLoader);
      // Once: the split loader's fetch took the preloaded response (a preload it could not use,
      // CORS mode or credentials that differ, makes it ask again).
      expect(requested.filter((pathname) => pathname === chunk), `${chunk} asked for once on ${path}`).toHaveLength(1);
      const initiator = await page.evaluate((chunk) => (performance.getEntriesByName(new URL(chunk, location.href).href)[0] as PerformanceResourceTiming | undefined)?.initiatorType, chunk);
      expect(initiator, `${chunk} fetched by a preload on ${path}`).toBe('link');
    }
    // And nothing the page needed was left out: every chunk it loaded was named.
    const chunksLoaded = requested.filter((pathname) => pathname.endsWith('.wasm') && !pathname.startsWith('/pkg/keystone-dashboard.'));
    expect([...new Set(chunksLoaded)].sort(), `the chunks ${path} loaded`).toEqual([...named].sort());
  }
});

test("once a page is interactive, every section's code is fetched into the cache while the browser is idle, and a click into any page loads it from there", async ({ page }) => {
  // When the page hydrated, on the page's clock, to set against the chunks' request times.
  await page.addInitScript(recordHydrationTime);
  await signIn(page, '/');
  const start = '/activity';
  await page.goto(start);
  await waitForHydration(page);
  // The WASM files the page has fetched (resource timing lists fetch() calls too, once each has
  // ended): when it asked for each, and the bytes that came over the network (0 from the cache).
  const wasmFetched = () =>
    page.evaluate(() =>
      (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
        .filter(({ name }) => new URL(name).pathname.endsWith('.wasm'))
        .map(({ name, startTime, transferSize }) => ({ path: new URL(name).pathname, startTime, transferSize })),
    );
  // Every chunk the build's split manifest lists, which the warm-up asks for.
  const manifestFetched = () =>
    page.evaluate(() => {
      const entry = performance.getEntriesByType('resource').find(({ name }) => name.includes('/pkg/__wasm_split_manifest.'));
      return entry && new URL(entry.name).pathname;
    });
  await expect.poll(manifestFetched).toBeTruthy();
  const manifestPath = (await manifestFetched())!;
  const manifest: Record<string, string[]> = await (await page.request.get(manifestPath)).json();
  const chunks = [...new Set(Object.values(manifest).flat())].map((chunk) => `/pkg/${chunk}.wasm`).sort();
  expect(new Set(chunks.map(sectionOf).filter(Boolean)), 'the manifest lists every section').toEqual(new Set(routes.map(({ section }) => section)));
  const notFetched = async () => {
    const fetched = new Set((await wasmFetched()).map(({ path }) => path));
    return chunks.filter((chunk) => !fetched.has(chunk));
  };
  await expect.poll(notFetched, { timeout: 10_000 }).toEqual([]);
  // None of the other sections' code before the page was interactive.
  const firstLoad = routes.find(({ path }) => path === start)!.section;
  const hydratedAt = await page.evaluate(() => (window as any).__hydratedAt);
  for (const { path, startTime } of await wasmFetched()) {
    const section = sectionOf(path);
    if (section && section !== firstLoad) expect(startTime, `${path} asked for after the page hydrated`).toBeGreaterThan(hydratedAt);
  }
  // Every page by a click, in the same document: each renders, and what WASM the clicks load
  // comes from the cache.
  const clicksStarted = await page.evaluate(() => performance.now());
  await page.evaluate(() => ((window as any).__sameDocument = true));
  const primary = page.getByRole('navigation', { name: 'Primary' });
  for (const { path, link, heading } of routes) {
    await primary.getByRole('link', { name: link, exact: true }).click();
    await expect(page).toHaveURL(new RegExp(`${path === '/' ? '/' : path}$`));
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
  }
  const onClicks = (await wasmFetched()).filter(({ startTime }) => startTime > clicksStarted);
  const loadedOnClicks = new Set(onClicks.map(({ path }) => sectionOf(path)).filter(Boolean));
  const others = new Set(routes.map(({ section }) => section).filter((section) => section !== firstLoad));
  expect(loadedOnClicks, 'each other section loaded on its first click').toEqual(others);
  expect(onClicks.filter(({ transferSize }) => transferSize > 0), 'WASM fetched over the network on a click').toEqual([]);
  expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
});

test.describe('when the warm-up cannot fetch a section', () => {
  // The refused fetch, as Chromium reports it on the console, and nothing else.
  test.use({ expectedConsoleErrors: [/^Failed to load resource: net::ERR_FAILED @ \S+\/pkg\/split_team_section_/] });

  test('the page stays interactive, and the first click into that section fetches it', async ({ page }) => {
    await signIn(page, '/');
    let refused = 0;
    await page.route(
      /\/pkg\/split_team_section_/,
      (route) => {
        refused++;
        return route.abort();
      },
      { times: 1 },
    );
    await page.goto('/activity');
    await waitForHydration(page);
    await expect.poll(() => refused, { timeout: 10_000 }).toBe(1);
    await page.evaluate(() => ((window as any).__sameDocument = true));
    const clicked = await page.evaluate(() => performance.now());
    await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Members', exact: true }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Members' })).toBeVisible();
    await expect(page.getByTestId('members-table')).toBeVisible();
    expect(await page.evaluate(() => (window as any).__sameDocument)).toBe(true);
    // The click fetched the section over the network (Playwright's routing turns the cache off).
    const fetchedOnClick = await page.evaluate(
      (clicked) =>
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[]).filter(
          ({ name, startTime, transferSize }) => name.includes('/pkg/split_team_section_') && startTime > clicked && transferSize > 0,
        ).length,
      clicked,
    );
    expect(fetchedOnClick, 'the team section fetched on the click').toBe(1);
  });
});

test('a page asks for no WASM while it is parsed, and nothing on it moves as it arrives and hydrates, on a phone too', async ({ browser }) => {
  const context = await browser.newContext({ viewport: { width: 412, height: 823 } });
  const page = await context.newPage();
  // Layout shifts not caused by input, summed per document as Chromium reports them (CLS counts
  // the same ones).
  await page.addInitScript(() => {
    // The document's first frame (render-blocked until the stylesheet is in).
    requestAnimationFrame(() => ((window as any).__firstFrame = performance.now()));
    (window as any).__shift = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries() as any[]) if (!entry.hadRecentInput) (window as any).__shift += entry.value;
    }).observe({ type: 'layout-shift', buffered: true });
  });
  await signIn(page, '/members');
  for (const path of ['/members', '/security']) {
    await page.goto(path);
    await waitForHydration(page);
    // A shift is reported on the frame after it happens.
    await page.evaluate(() => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))));
    const shift = await page.evaluate(() => (window as any).__shift);
    expect(shift, `${path}: layout shift while loading and hydrating`).toBeLessThan(0.01);

    const timing = await page.evaluate(() => ({
      parsed: (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).domContentLoadedEventEnd,
      firstFrame: (window as any).__firstFrame as number,
      contentfulPaint: performance.getEntriesByName('first-contentful-paint')[0]?.startTime,
      requests: performance
        .getEntriesByType('resource')
        .filter((entry) => /\/pkg\/.*\.(js|wasm)$/.test(entry.name))
        .map((entry) => entry.startTime),
    }));
    expect(timing.requests.length, `${path}: the bundle was fetched`).toBeGreaterThan(0);
    // No preload in the head: nothing of the bundle is asked for while the page is parsed, and
    // its first file only once the first frame is painted. It never competes with the page and
    // its stylesheet for the connection.
    const first = Math.min(...timing.requests);
    expect(first, `${path}: the bundle asked for after the page was parsed`).toBeGreaterThan(timing.parsed);
    expect(first, `${path}: the bundle asked for after the first frame`).toBeGreaterThan(timing.firstFrame);
    // And only once that paint is on screen: the paint's time is when it was presented, which on
    // a slow compositor comes after a frame callback and a timer. Lighthouse's model counts any
    // download asked for before the largest paint as holding it up.
    expect(timing.contentfulPaint, `${path}: the first contentful paint was reported`).toBeDefined();
    expect(first, `${path}: the bundle asked for after the first contentful paint`).toBeGreaterThan(timing.contentfulPaint!);

    // On a slow connection the browser paints the page as it arrives: the frame first, the page's
    // content after. Where the content starts must not depend on how much of it is there.
    const workspaceTop = () => page.locator('.workspace').evaluate((element) => element.getBoundingClientRect().top);
    const complete = await workspaceTop();
    await page.locator('main').evaluate((main) => main.replaceChildren());
    expect(await workspaceTop(), `${path}: the workspace starts where it did with the page complete`).toBe(complete);
  }
  await context.close();
});

test('the bundle waits for the first contentful paint to be reported; without the report, or without paint entries, a page still hydrates', async ({ page }) => {
  await signIn(page, '/members');
  // What the page's observers are told of its paints, set per load through sessionStorage:
  // `hold` keeps the first contentful paint's report back until the test lets it through,
  // `unsupported` says the browser has no paint entries.
  await page.addInitScript(recordHydrationTime);
  await page.addInitScript(() => {
    const w = window as any;
    const mode = sessionStorage.getItem('paint-reports');
    const Real = PerformanceObserver;
    const held: (() => void)[] = [];
    w.__heldPaints = () => held.length;
    w.__releasePaint = () => {
      w.__paintReleased = true;
      held.splice(0).forEach((deliver) => deliver());
    };
    w.PerformanceObserver = class extends Real {
      static get supportedEntryTypes() {
        return Real.supportedEntryTypes.filter((type) => mode !== 'unsupported' || type !== 'paint');
      }
      constructor(callback: PerformanceObserverCallback) {
        super((entries, observer) => {
          const paint = entries.getEntriesByName('first-contentful-paint').length > 0;
          if (mode === 'hold' && paint && !w.__paintReleased) held.push(() => callback(entries, observer));
          else callback(entries, observer);
        });
      }
    };
  });
  const load = async (mode: string) => {
    await page.evaluate((mode) => sessionStorage.setItem('paint-reports', mode), mode);
    await page.goto('/members');
    await expect(page.getByRole('heading', { level: 1, name: 'Members' })).toBeVisible();
  };
  const bundleRequests = () =>
    page.evaluate(() => performance.getEntriesByType('resource').filter((entry) => /\/pkg\/.*\.(js|wasm)$/.test(entry.name)).length);
  const hydratedAt = async () => {
    await waitForHydration(page);
    return page.evaluate(() => (window as any).__hydratedAt as number);
  };

  // Painted, not yet reported: nothing of the bundle is asked for. Reported: it hydrates then,
  // well before the 5 s fallback.
  await load('hold');
  await page.waitForTimeout(700);
  expect(await page.evaluate(() => (window as any).__heldPaints()), "the loader waits on the first contentful paint's report, held back").toBe(1);
  expect(await bundleRequests(), 'the bundle asked for before the paint was reported').toBe(0);
  await page.evaluate(() => (window as any).__releasePaint());
  expect(await hydratedAt(), 'hydrated once the paint was reported').toBeLessThan(4000);

  // Never reported: the fallback timer hydrates the page at 5 s.
  await load('hold');
  expect(await hydratedAt(), 'hydrated by the fallback timer').toBeGreaterThanOrEqual(5000);

  // A browser without paint entries starts on the frame after the first paint.
  await load('unsupported');
  expect(await hydratedAt(), 'hydrated without paint entries').toBeLessThan(4000);
  expect(await bundleRequests()).toBeGreaterThan(0);
});
