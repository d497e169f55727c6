import type { Page } from '@playwright/test';
import { test, expect, signIn, waitForHydration, failNext, setFaults, DMITRI } from './fixtures';

const FIELDS = ['Name', 'Logo URL (optional)', 'Support email (optional)', 'Support page URL (optional)'];

/** The profile form's four fields, as shown. */
async function profileValues(page: Page) {
  const form = page.getByTestId('profile-form');
  return Promise.all(FIELDS.map((label) => form.getByLabel(label, { exact: true }).inputValue()));
}

/** Puts the seeded profile back, so that other tests see it as seeded. */
async function restoreProfile(page: Page, values: string[]) {
  await page.goto('/settings');
  await waitForHydration(page);
  const form = page.getByTestId('profile-form');
  for (const [index, label] of FIELDS.entries()) await form.getByLabel(label, { exact: true }).fill(values[index]);
  await page.getByTestId('save-profile').click();
  await expect(page.getByTestId('announcement')).toHaveText(`Saved the profile of ${values[0]}.`);
}

// The refusal and the outage below are provoked on purpose.
test.use({ expectedConsoleErrors: [/status of (422|503) .*\/api\/settings\/general\/update/] });

const LOGO = 'https://cdn.acme.example/logo.svg';
const LOGO_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48"><rect width="48" height="48" fill="#2f6feb"/></svg>';

test('the platform profile is edited with checks as you type, a preview and kept input', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  // The logo's host, answered by the browser itself (these machines have no internet).
  await context.route(LOGO, (route) => route.fulfill({ contentType: 'image/svg+xml', body: LOGO_SVG }));
  await signIn(page, '/');
  await waitForHydration(page);
  await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'General' }).click();
  await expect(page.getByRole('heading', { level: 1, name: 'General' })).toBeVisible();
  const form = page.getByTestId('profile-form');
  const name = form.getByLabel('Name', { exact: true });
  const seeded = await profileValues(page);
  expect(seeded[0]).not.toBe('');

  try {
    // A logo over plain http is refused as it is typed, and the form cannot be sent.
    const logo = form.getByLabel(/^Logo URL/);
    await logo.fill('http://cdn.acme.example/logo.svg');
    await expect(page.getByTestId('logo-hint')).toContainText('must use https://');
    await expect(logo).toHaveAttribute('aria-invalid', 'true');
    await expect(page.getByTestId('save-profile')).toBeDisabled();
    await expect(page.getByTestId('logo-preview').locator('img')).toHaveCount(0);
    // Fixed, it is previewed.
    await logo.fill(LOGO);
    await expect(logo).toHaveAttribute('aria-invalid', 'false');
    const preview = page.getByTestId('logo-preview').locator('img');
    await expect(preview).toHaveAttribute('src', LOGO);
    // Loaded, not merely named: the page's CSP lets an https image in.
    await expect.poll(() => preview.evaluate((image: HTMLImageElement) => image.naturalWidth)).toBe(48);

    // A typo in the email: the server names it, and everything typed stays.
    await name.fill('Acme Settlements');
    await form.getByLabel(/^Support email/).fill('help at acme');
    await page.getByTestId('save-profile').click();
    await expect(form.getByRole('alert')).toContainText('Support email:');
    await expect(name).toHaveValue('Acme Settlements');
    await expect(form.getByLabel(/^Support email/)).toHaveValue('help at acme');
    await expect(logo).toHaveValue(LOGO);

    // The API fails twice: said so each time (the same words shown and read out anew), nothing
    // lost, and the next try saves.
    await form.getByLabel(/^Support email/).fill('help@acme.example');
    await setFaults(failNext('PATCH', '/v1/platforms/me', 503, 2));
    await page.getByTestId('save-profile').click();
    const problem = page.getByTestId('announcement').locator('.toast--error');
    await expect(problem).toBeVisible();
    await problem.evaluate((toast) => toast.setAttribute('data-seen', ''));
    const said = await problem.innerText();
    await page.getByTestId('save-profile').click();
    await expect(page.getByTestId('announcement').locator('.toast--error:not([data-seen])')).toHaveText(said);
    await expect(name).toHaveValue('Acme Settlements');
    // Dismissed from the keyboard: the focus goes on to the page, not to its top.
    await page.getByTestId('dismiss-announcement').focus();
    await page.keyboard.press('Enter');
    await expect(problem).toHaveCount(0);
    await expect(page.locator('#main')).toBeFocused();
    await setFaults({});
    await page.getByTestId('save-profile').click();
    await expect(page.getByTestId('announcement')).toHaveText('Saved the profile of Acme Settlements.');
    // The top bar names the platform as saved, with no reload.
    await expect(page.getByTestId('topbar-platform')).toHaveText('Acme Settlements');

    // Saved for real: a fresh load shows it, and the overview's name follows.
    await page.reload();
    await waitForHydration(page);
    await expect(name).toHaveValue('Acme Settlements');
    await expect(form.getByLabel(/^Support email/)).toHaveValue('help@acme.example');
    await expect(page.getByTestId('topbar-platform')).toHaveText('Acme Settlements');

    // Each environment's client id, copied with one press.
    const production = page.locator('[data-testid="client-row"][data-slug="production"]');
    const clientId = await production.getByTestId('client-id').innerText();
    await production.getByTestId('copy-client-id').click();
    await expect(production.getByTestId('copy-client-id')).toHaveText(/^Copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(clientId);
  } finally {
    await setFaults({});
    await restoreProfile(page, seeded);
  }
});

test('a viewer sees the profile read-only, with the reason', async ({ page }) => {
  await signIn(page, '/settings', DMITRI);
  await expect(page.getByTestId('profile-read-only')).toBeVisible();
  await expect(page.getByTestId('read-only')).toContainText('platform:manage');
  await expect(page.getByTestId('profile-form')).toHaveCount(0);
  await expect(page.getByTestId('client-row')).not.toHaveCount(0);
});

test('without JavaScript a refused save shows what was wrong and leads back to the form', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, '/settings');
  const form = page.getByTestId('profile-form');
  await form.getByLabel(/^Support email/).fill('help at acme');
  await page.getByTestId('save-profile').click();
  // The server's refusal as a page, not the error's JSON at /api/….
  await expect(page.getByRole('heading', { level: 1, name: 'Some fields need attention' })).toBeVisible();
  await expect(page.getByTestId('problem-page')).toContainText(/email/i);
  await expect(page.getByTestId('problem-page')).not.toContainText('Validation');
  await page.getByRole('link', { name: 'Back to the page' }).click();
  await expect(page).toHaveURL(/\/settings$/);
  await expect(page.getByTestId('profile-form')).toBeVisible();
  await context.close();
});

test.describe('a top bar read again that fails', () => {
  // The top bar's read is cut off on purpose.
  test.use({ expectedConsoleErrors: [/net::ERR_FAILED/] });

  test('keeps the bar it had, its switcher and Sign out', async ({ page }) => {
    await signIn(page, '/settings');
    await waitForHydration(page);
    const name = await page.getByTestId('topbar-platform').innerText();
    // Saved; then the top bar's read again never reaches the dashboard's server.
    let cut = 0;
    await page.route('**/api/shell', (route) => {
      cut += 1;
      return route.abort();
    });
    await page.getByTestId('save-profile').click();
    await expect(page.getByTestId('announcement')).toHaveText(`Saved the profile of ${name}.`);
    await expect.poll(() => cut).toBeGreaterThan(0);
    await expect(page.getByTestId('reading-bar')).toBeHidden();
    await expect(page.getByText('The dashboard could not load your platform')).toHaveCount(0);
    await expect(page.getByTestId('topbar-platform')).toHaveText(name);
    await expect(page.getByTestId('environment-switcher')).toBeVisible();
  });
});
