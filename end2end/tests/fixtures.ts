import { createServer, IncomingHttpHeaders } from 'node:http';
import { AddressInfo } from 'node:net';
import { test as base, expect, APIRequestContext, Page } from '@playwright/test';

/**
 * Every test fails on a browser console error or an uncaught page error: a CSP violation, a failed
 * asset, or a panic during hydration all surface there first.
 */
export const test = base.extend<{ expectedConsoleErrors: RegExp[]; consoleErrors: string[] }>({
  /** Errors a test provokes on purpose (for example the 404 of a missing page), and only those. */
  expectedConsoleErrors: [[], { option: true }],
  consoleErrors: [
    async ({ page, expectedConsoleErrors }, use) => {
      const errors: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`${message.text()} @ ${message.location().url}`);
      });
      page.on('pageerror', (error) => errors.push(`${error.name}: ${error.message}`));
      await use(errors);
      const unexpected = errors.filter((text) => !expectedConsoleErrors.some((pattern) => pattern.test(text)));
      expect(unexpected, 'browser console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

/** Waits until the WASM bundle has hydrated the server-rendered page. */
export async function waitForHydration(page: Page) {
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1, { timeout: 15_000 });
}

/** An init script: records in `window.__hydratedAt` when the page hydrated (`performance.now()`,
 * on the page's clock, to set against its paint and resource timings). */
export const recordHydrationTime = () => {
  // Observes the document (always there, unlike <html> when init scripts run) and its subtree.
  new MutationObserver((_, observer) => {
    if (document.documentElement?.dataset.hydrated === 'true') {
      (window as any).__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
};

/** Who signs in unless a test says otherwise: Ada, a Platform Manager of the seeded platform. */
export const ADA = { name: 'Ada Okafor', email: 'ada@acme-markets.example' };

/**
 * Opens `path` signed out, goes through the sandbox's sign-in page as `who`, and waits until the
 * browser is back on `path`. Everything runs through real redirects, as in production.
 */
export async function signIn(page: Page, path = '/', who = ADA) {
  await page.goto(path);
  await expect(page.getByRole('heading', { name: /Sign in to Acme Markets/ })).toBeVisible();
  await page.getByRole('button', { name: new RegExp(who.name) }).click();
  await expect(page).toHaveURL((url) => url.pathname + url.search === path);
}

/** A Viewer: sees everything, changes nothing. */
export const DMITRI = { name: 'Dmitri Volkov', email: 'dmitri@acme-markets.example' };

/** The embedded sandbox (identity provider and KeyStone API), set by playwright.config.ts. */
export const SANDBOX_URL = process.env.KEYSTONE_E2E_SANDBOX_URL ?? 'http://127.0.0.1:4110';

/** Sets the sandbox's fault injection (`{}` clears it); see sandbox/src/faults.rs. */
export async function setFaults(faults: object) {
  const reply = await fetch(`${SANDBOX_URL}/_sandbox/faults`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });
  expect(reply.ok).toBe(true);
}

/** A fault that answers `status` to the next `times` requests of `method` under `path_prefix`. */
export function failNext(method: string, path_prefix: string, status = 503, times = 1) {
  return { rules: [{ method, path_prefix, action: { kind: 'status', status }, times }] };
}

/** The pages of the sidebar: where each lives, its link's name and its heading. */
/** The sidebar's pages, with the WASM chunk each comes in (its section, src/app/pages/mod.rs). */
export const MAIN_PAGES: { path: string; link: string; heading: RegExp; section: string }[] = [
  { path: '/', link: 'Overview', heading: /^Overview$/, section: 'overview' },
  { path: '/members', link: 'Members', heading: /^Members$/, section: 'team' },
  { path: '/roles', link: 'Roles', heading: /^Roles$/, section: 'team' },
  { path: '/settings', link: 'General', heading: /^General$/, section: 'settings' },
  { path: '/environments', link: 'Environments', heading: /^Environments$/, section: 'environments' },
  { path: '/security', link: 'Security', heading: /^Security$/, section: 'environments' },
  { path: '/webhooks', link: 'Webhooks', heading: /^Webhooks$/, section: 'settings' },
  { path: '/activity', link: 'Activity', heading: /^Activity$/, section: 'overview' },
  { path: '/upstream-check', link: 'API check', heading: /^API check$/, section: 'overview' },
];

/** A webhook receiver on loopback, started by the test: it keeps each delivery's headers and body. */
export async function startReceiver() {
  const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return { url, received, close: () => new Promise((resolve) => server.close(resolve)) };
}

/** Marks the platform's onboarding complete or not (the sandbox's control API). */
export async function setOnboarding(completed: boolean) {
  const reply = await fetch(`${SANDBOX_URL}/_sandbox/onboarding`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ completed }),
  });
  expect(reply.ok).toBe(true);
}

/**
 * Status of an M2M call with an environment's credentials, made from this machine (127.0.0.1). A
 * client whose token is refused (its environment deactivated) calls without one.
 */
export async function m2mStatus(request: APIRequestContext, slug = 'staging'): Promise<number> {
  const token = await request.post(`${SANDBOX_URL}/oauth/token`, {
    data: {
      client_id: `sandbox-m2m-${slug}`,
      client_secret: `sandbox-m2m-secret-${slug}`,
      audience: 'https://api.keystoneos.xyz',
      grant_type: 'client_credentials',
    },
  });
  const { access_token } = await token.json();
  const reply = await request.get(`${SANDBOX_URL}/v1/platforms/me/environments`, {
    headers: { Authorization: `Bearer ${access_token ?? ''}` },
  });
  return reply.status();
}

/** Switches the environment from the Security page and waits until its allowlist is shown. */
export async function switchTo(page: Page, slug: string, name: string) {
  await page.getByTestId('environment-switcher').selectOption(slug);
  await expect(page.getByTestId('allowlist-environment')).toHaveText(name);
  await waitForHydration(page);
}

/** Ada calling the KeyStone API (the sandbox) directly, as an integration of hers would. */
export async function adaOnTheApi() {
  const reply = await fetch(`${SANDBOX_URL}/_sandbox/user-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: 'auth0|acme-ada' }),
  });
  const { access_token } = await reply.json();
  return async (method: string, path: string, body?: object) => {
    const answer = await fetch(`${SANDBOX_URL}/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${access_token}`,
        'x-keystone-environment': 'development',
        'content-type': 'application/json',
      },
      body: body && JSON.stringify(body),
    });
    expect(answer.ok, `${method} ${path}`).toBe(true);
    return answer.status === 204 ? null : answer.json();
  };
}

/**
 * A platform whose endpoints receive nothing: every active endpoint paused through Ada's API
 * token. Returns what puts them back.
 */
export async function pauseActiveEndpoints(api: Awaited<ReturnType<typeof adaOnTheApi>>) {
  const { items } = await api('GET', '/platforms/me/webhooks');
  const paused: string[] = items.filter((endpoint: any) => endpoint.is_active).map((endpoint: any) => endpoint.id);
  for (const id of paused) await api('PATCH', `/platforms/me/webhooks/${id}`, { is_active: false });
  return async () => {
    for (const id of paused) await api('PATCH', `/platforms/me/webhooks/${id}`, { is_active: true });
  };
}
