import { APIRequestContext, Page } from '@playwright/test';
import { test, expect, signIn, waitForHydration, m2mStatus, DMITRI, SANDBOX_URL } from './fixtures';

/** The environment header of the dashboard's latest call to the platform resource. */
async function lastUpstreamEnvironment(request: APIRequestContext): Promise<string> {
  const stats = await (await request.get(`${SANDBOX_URL}/_sandbox/stats`)).json();
  const reads = stats.recent_requests.filter((r: any) => r.path === '/v1/platforms/me');
  return reads[reads.length - 1].environment_header;
}

async function cardState(page: Page, slug: string) {
  await page.goto('/');
  return page.locator(`[data-testid="environment-card"][data-slug="${slug}"]`);
}

test('switching environments moves the banner and the upstream header together', async ({ page, request }) => {
  await signIn(page, '/');
  await waitForHydration(page);
  await expect.poll(() => lastUpstreamEnvironment(request)).toBe('development');
  await page.getByTestId('environment-switcher').selectOption('production');
  await expect(page.locator('.production-banner')).toBeVisible();
  await expect(page.getByTestId('environment-card').first()).toBeVisible();
  await expect.poll(() => lastUpstreamEnvironment(request)).toBe('production');
  await waitForHydration(page);
  await page.getByTestId('environment-switcher').selectOption('staging');
  await expect(page.locator('.production-banner')).toHaveCount(0);
  await expect(page.getByTestId('environment-switcher')).toHaveValue('staging');
  await expect(page.getByTestId('environment-card').first()).toBeVisible();
  await expect.poll(() => lastUpstreamEnvironment(request)).toBe('staging');
  await waitForHydration(page);
  await page.getByTestId('environment-switcher').selectOption('development');
  await expect(page.getByTestId('environment-switcher')).toHaveValue('development');
  await expect(page.getByTestId('environment-card').first()).toBeVisible();
  await expect.poll(() => lastUpstreamEnvironment(request)).toBe('development');
});

test('create, edit, deactivate and reactivate environments; overview and activity follow', async ({ page, request }) => {
  await signIn(page, '/environments');
  await waitForHydration(page);

  // Create: the slug is checked as you type.
  const form = page.getByTestId('create-environment-form');
  await form.getByLabel('Name').fill('QA');
  await form.getByLabel('Slug').fill('QA env');
  await expect(page.getByTestId('slug-hint')).toContainText('not valid');
  await expect(form.getByTestId('create-environment')).toBeDisabled();
  await form.getByLabel('Slug').fill('qa');
  await form.getByLabel('M2M client id (Auth0)').fill('qa-client');
  await form.getByTestId('create-environment').click();
  await expect(page.getByTestId('announcement')).toHaveText('Created QA.');
  const qa = page.locator('[data-testid="environment-row"][data-slug="qa"]');
  await expect(qa).toContainText('qa-client');
  // The top bar's switcher follows each change, with no reload.
  const switcher = page.getByTestId('environment-switcher');
  await expect(switcher.locator('option[value="qa"]')).toHaveText('QA');

  // Edit.
  await qa.getByText('Edit').click();
  await qa.getByLabel('Name').fill('Quality');
  await qa.getByLabel('Rate limit (requests per minute; empty for the default)').fill('90');
  // The signing secret is write-only: typed masked, sent with the save, never shown again.
  const secret = qa.getByLabel(/^New webhook signing secret/);
  await expect(secret).toHaveAttribute('autocomplete', 'off');
  expect(await secret.evaluate((input) => getComputedStyle(input).getPropertyValue('-webkit-text-security'))).toBe('disc');
  await secret.fill('whsec_from_the_dialog');
  const sent = page.waitForRequest((request) => request.url().endsWith('/api/environments/update'));
  await qa.getByRole('button', { name: 'Save' }).click();
  expect((await sent).postData()).toContain('webhook_secret=whsec_from_the_dialog');
  await expect(qa).toContainText('90/min');
  await expect(qa).toContainText('Quality');
  await qa.getByText('Edit').click();
  await expect(secret).toHaveValue('');
  await qa.getByText('Edit').click();
  await expect(switcher.locator('option[value="qa"]')).toHaveText('Quality');

  // Deactivate staging: the confirmation explains the effect; M2M credentials then stop working.
  const staging = page.locator('[data-testid="environment-row"][data-slug="staging"]');
  await staging.getByTestId('deactivate').click();
  await expect(staging.getByRole('alert')).toContainText('refuses its M2M credentials at once');
  await staging.getByLabel('I understand').check();
  await staging.locator('.inline-dialog__body:visible').getByRole('button', { name: 'Yes, deactivate Staging' }).click();
  await expect(staging.getByTestId('environment-state')).toHaveText('Deactivated');
  // The row was rebuilt without the dialog: the focus is on what took its place.
  await expect(staging.getByTestId('reactivate')).toBeFocused();
  await expect(switcher.locator('option[value="staging"]')).toHaveText('Staging (inactive)');
  await expect(switcher.locator('option[value="staging"]')).toBeDisabled();
  expect(await m2mStatus(request, 'staging')).toBe(403);
  await expect(await cardState(page, 'staging')).toContainText('Deactivated');
  await expect(await cardState(page, 'qa')).toContainText('Quality');

  await page.goto('/environments');
  await waitForHydration(page);
  await staging.getByTestId('reactivate').click();
  await expect(staging.getByTestId('environment-state')).toHaveText('Active');
  await expect(staging.getByTestId('deactivate')).toBeFocused();
  await expect(switcher.locator('option[value="staging"]')).toHaveText('Staging');
  await expect(switcher.locator('option[value="staging"]')).toBeEnabled();
  expect(await m2mStatus(request, 'staging')).toBe(200);
  await expect(await cardState(page, 'staging')).toContainText('Active');

  // The activity page lists the changes, filtered by environment and category through the URL
  // (the M2M calls above are logged too, under "M2M requests").
  await page.goto('/activity');
  await waitForHydration(page);
  await page.getByTestId('activity-environment').selectOption('staging');
  await page.getByLabel('Category').selectOption('environment');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/environment=staging/);
  // What the filter found is read out, not only shown.
  await expect(page.getByTestId('activity-count')).toHaveAttribute('role', 'status');
  await expect(page).toHaveURL(/category=environment/);
  const entries = page.getByTestId('activity-entry');
  await expect(entries.first()).toContainText('environment.reactivated');
  await expect(entries.nth(1)).toContainText('environment.deactivated');
  await entries.first().locator('summary').click();
  await expect(entries.first()).toContainText('PATCH /v1/platforms/me/environments/');
  await page.reload();
  await expect(page.getByTestId('activity-environment')).toHaveValue('staging');
});

test('a viewer sees environments, overview and activity read-only', async ({ page }) => {
  await signIn(page, '/environments', DMITRI);
  // Other tests may have added environments to this shared sandbox; the seeded three are there.
  for (const slug of ['development', 'staging', 'production']) {
    await expect(page.locator(`[data-testid="environment-row"][data-slug="${slug}"]`)).toBeVisible();
  }
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('create-environment-form')).toHaveCount(0);
  await expect(page.getByTestId('deactivate')).toHaveCount(0);
  await page.goto('/');
  await expect(page.getByTestId('permissions')).toContainText('See IP allowlists');
  await expect(page.getByTestId('permissions')).not.toContainText('Change IP allowlists');
});

test.describe('a production edit', () => {
  // The refused save below answers 422, which the browser logs.
  test.use({ expectedConsoleErrors: [/status of 422 .*\/api\/environments\/update/] });

  test('an edit of production is confirmed, and a refused field is named in its own dialog', async ({ page }) => {
    await signIn(page, '/environments');
    await waitForHydration(page);
    const production = page.locator('[data-testid="environment-row"][data-slug="production"]');
    await production.getByRole('button', { name: /^Edit\b/ }).click();
    const dialog = production.locator('.inline-dialog__body:visible');
    await expect(dialog.getByTestId('confirmation')).toContainText('This changes production');
    const timeout = dialog.getByLabel('Default timeout (seconds)');
    const saved = await timeout.inputValue();

    // Refused by the server: the field's problem shows in the dialog, and what was typed stays.
    await timeout.fill('59');
    await dialog.getByLabel('I understand').check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(dialog.locator('.form-error')).toContainText('60 to 604800');
    await expect(timeout).toHaveValue('59');
    // The list reloaded under the dialog: the focus is back on its Save, next to the error.
    await expect(dialog.getByRole('button', { name: 'Save' })).toBeFocused();

    // Another row's dialog does not carry production's refusal.
    const staging = page.locator('[data-testid="environment-row"][data-slug="staging"]');
    await staging.getByRole('button', { name: /^Edit\b/ }).click();
    await expect(staging.getByLabel('Name')).toBeVisible();
    await expect(staging.locator('.form-error')).toHaveCount(0);
    await staging.getByLabel('Name').press('Escape');

    // Production's dialog opened again starts from what is saved; confirmed, it saves.
    await production.getByRole('button', { name: /^Edit\b/ }).click();
    await expect(timeout).toHaveValue(saved);
    await expect(dialog.locator('.form-error')).toHaveCount(0);
    await dialog.getByLabel('I understand').check();
    await dialog.getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('announcement')).toHaveText('Saved Production.');
    // The dialog is gone with the form that had the focus; the focus is back on the row's button.
    await expect(production.getByRole('button', { name: /^Edit\b/ })).toBeFocused();
  });
});
