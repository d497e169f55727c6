import { Response } from '@playwright/test';
import { test, expect, signIn, waitForHydration, ADA } from './fixtures';

test('signing in through the sandbox lands on the page asked for; signing out ends the session', async ({ page }) => {
  await signIn(page, '/roles?tab=matrix');
  await waitForHydration(page);
  await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
  await expect(page.getByTestId('member-name')).toHaveText(ADA.name);

  // The session cookie is invisible to scripts (HttpOnly) and host-only.
  expect(await page.evaluate(() => document.cookie)).toBe('');
  const cookies = await page.context().cookies();
  const session = cookies.find((cookie) => cookie.name === '__Host-keystone_session');
  expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });

  await page.locator('summary.user-menu__button').click();
  await page.getByTestId('sign-out').click();
  // The provider's logout returns to the dashboard, which (signed out) sends the browser to sign in.
  await expect(page.getByRole('heading', { name: /Sign in to Acme Markets/ })).toBeVisible();
  expect((await page.context().cookies()).some((cookie) => cookie.name === '__Host-keystone_session' && cookie.value !== '')).toBe(
    // A fresh, anonymous session holds the new login attempt; the signed-in one is gone.
    true,
  );
  await page.goto('/members');
  await expect(page.getByRole('heading', { name: /Sign in to Acme Markets/ })).toBeVisible();
});

test('no token or client secret ever reaches the browser', async ({ page }) => {
  const bodies: { url: string; text: string }[] = [];
  const pending: Promise<void>[] = [];
  page.on('response', (response: Response) => {
    pending.push(
      (async () => {
        const type = response.headers()['content-type'] ?? '';
        if (response.status() >= 300 && response.status() < 400) return;
        if (!/html|javascript|json|css|text/.test(type)) return;
        bodies.push({ url: response.url(), text: await response.text().catch(() => '') });
      })(),
    );
  });

  await signIn(page, '/members');
  await waitForHydration(page);
  // Client-side navigation and a server function call after hydration.
  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Roles' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
  await page.getByTestId('environment-switcher').selectOption('staging');
  await expect(page.getByTestId('environment-switcher')).toHaveValue('staging');
  await page.waitForLoadState('networkidle');
  await Promise.all(pending);

  const fromDashboard = bodies.filter((body) => body.url.startsWith('http://127.0.0.1:3100'));
  expect(fromDashboard.some((body) => body.url.endsWith('.js')), 'the JS bundle was checked').toBe(true);
  expect(fromDashboard.some((body) => body.url.includes('/api/')), 'a server function reply was checked').toBe(true);
  for (const body of fromDashboard) {
    // Every JWT (access or ID token) starts with the base64 of '{"' : eyJ.
    expect(body.text, body.url).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
    expect(body.text, body.url).not.toContain('sandbox-dashboard-secret');
    expect(body.text.toLowerCase(), body.url).not.toContain('refresh_token');
  }
});
