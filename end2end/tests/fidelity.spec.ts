import { test, expect, signIn, waitForHydration } from './fixtures';

/**
 * The dashboard against an API and a provider that differ from our sandbox's defaults wherever
 * KeyStone publishes nothing (the second server of playwright.config.ts): roles that carry no
 * permissions, invitations that list role ids, and an OpenID provider with its own endpoint paths
 * and an issuer without a trailing slash. Every page renders and every action works.
 */
test.use({ baseURL: process.env.KEYSTONE_E2E_OTHER_URL ?? 'http://127.0.0.1:3101' });

const PAGES = ['/', '/members', '/roles', '/environments', '/security', '/activity', '/upstream-check'];

test('every page renders, with no section failing, through a generic OpenID provider', async ({ page }) => {
  await signIn(page, '/');
  await waitForHydration(page);
  for (const path of PAGES) {
    await page.goto(path);
    await expect(page.locator('main h1')).toBeVisible();
    await expect(page.getByTestId('section-failed'), `${path} has no failed section`).toHaveCount(0);
    await expect(page.getByRole('alert').filter({ hasText: /could not|not reachable|does not understand/i })).toHaveCount(0);
  }
  // Roles without permissions: shown with their descriptions, no matrix, said plainly.
  await page.goto('/roles');
  await expect(page.getByTestId('role-card')).toHaveCount(4);
  await expect(page.getByTestId('permissions-unknown')).toBeVisible();
  await expect(page.getByTestId('permission-matrix')).toHaveCount(0);
});

test('invite with a role, see its name, resend it with the role kept', async ({ page }) => {
  await signIn(page, '/members');
  await waitForHydration(page);
  const form = page.getByTestId('invite-form');
  await form.getByLabel(/Email addresses/).fill('fidelity@example.com');
  await form.getByLabel(/^Developer/).check();
  await form.getByTestId('send-invitations').click();
  await expect(page.getByTestId('invite-results')).toContainText('fidelity@example.com: invited');
  // The API lists role ids; the page shows the role's name.
  const row = page.locator('[data-testid="invitation-row"][data-email="fidelity@example.com"]');
  await expect(row).toContainText('Developer');
  // Resending revokes the link already sent: the dialog says so and needs a yes.
  await row.getByTestId('resend').click();
  const resending = row.locator('.inline-dialog__body:visible');
  await expect(resending.getByTestId('confirmation')).toContainText('The link sent to fidelity@example.com stops working');
  await resending.getByLabel('I understand').check();
  await resending.getByRole('button', { name: 'Resend the invitation of fidelity@example.com' }).click();
  await expect(page.getByTestId('announcement')).toContainText('Sent a new invitation to fidelity@example.com');
  await expect(row).toContainText('Developer');
});

test('the API check reports every read as expected', async ({ page }) => {
  await signIn(page, '/upstream-check');
  await waitForHydration(page);
  await page.getByTestId('run-check').click();
  await expect(page.getByTestId('check-summary')).toContainText('All 21 reads answered as expected');
  await expect(page.locator('[data-testid="check-row"][data-ok="false"]')).toHaveCount(0);
});

test('sign out ends the session at the provider too', async ({ page }) => {
  await signIn(page, '/');
  await waitForHydration(page);
  await page.locator('summary.user-menu__button').click();
  const logout = page.waitForRequest((request) => request.url().includes('logout_hint='));
  await page.getByTestId('sign-out').click();
  // RP-initiated logout at the provider's own end-session endpoint, naming its session (never
  // by the ID token: no token passes through the browser), then back, signed out.
  const url = new URL((await logout).url());
  expect(url.pathname).not.toBe('/v2/logout');
  expect(url.searchParams.has('id_token_hint')).toBe(false);
  await expect(page.getByRole('heading', { name: /Sign in to Acme Markets/ })).toBeVisible();
  await page.goto('/members');
  await expect(page.getByRole('heading', { name: /Sign in to Acme Markets/ })).toBeVisible();
});
