import { test, expect, signIn, waitForHydration, m2mStatus, switchTo, setFaults, DMITRI, SANDBOX_URL } from './fixtures';

test('the allowlist guards against lockouts and really restricts M2M traffic', async ({ page, request }) => {
  await signIn(page, '/security');
  await waitForHydration(page);
  // staging's M2M client calls from this machine: the page lists it among the recent callers.
  expect(await m2mStatus(request)).toBe(200);
  await switchTo(page, 'staging', 'Staging');
  await expect(page.getByTestId('allowlist-empty')).toContainText('accepts M2M traffic from every address');
  const caller = page.locator('[data-testid="recent-caller"][data-client="sandbox-m2m-staging"]');
  await expect(caller).toContainText('127.0.0.1');
  await expect(caller).toContainText('Allowed');

  // As you type: host bits are caught and the canonical network offered.
  const form = page.getByTestId('add-entry-form');
  await form.getByLabel('IP address or CIDR network').fill('198.51.100.7/24');
  await expect(page.getByTestId('cidr-hint')).toContainText('has host bits set');
  await form.getByRole('button', { name: 'Use 198.51.100.0/24' }).click();
  await expect(form.getByLabel('IP address or CIDR network')).toHaveValue('198.51.100.0/24');
  // The button went with the problem: the focus is on the field it changed.
  await expect(form.getByLabel('IP address or CIDR network')).toBeFocused();
  await expect(page.getByTestId('cidr-hint')).toContainText('256 addresses');
  await form.getByLabel('Description (optional)').fill('office');

  // The first entry says what it does, names the client it would lock out, and needs a yes.
  await expect(form.getByTestId('confirmation')).toContainText('will be refused at once');
  await expect(form.getByTestId('confirmation')).toContainText(
    'sandbox-m2m-staging would be refused: it last called from 127.0.0.1',
  );
  await form.getByTestId('add-entry').click();
  await expect(page.getByTestId('allowlist-row')).toHaveCount(0);
  await form.getByLabel('I understand').check();
  await form.getByTestId('add-entry').click();
  await expect(page.getByTestId('announcement')).toHaveText('Added 198.51.100.0/24.');
  await expect(page.getByTestId('allowlist-row')).toHaveCount(1);
  await expect(page.getByTestId('allowlist-row')).toContainText('office');
  // Good news goes by itself, once it has been read out (a problem stays: drafts.spec.ts).
  await expect(page.getByTestId('announcement').locator('.toast')).toHaveCount(0, { timeout: 15_000 });
  expect(await m2mStatus(request)).toBe(403);
  await expect(caller).toContainText('Refused');

  // Bulk: the bad line is reported, the good one added (and it lets this machine in).
  const bulk = page.getByTestId('bulk-form');
  await bulk.locator('textarea').fill('127.0.0.1, CI runner\n10.0.0.0/33');
  await expect(page.getByTestId('bulk-preview')).toContainText('will add 127.0.0.1/32');
  await expect(page.getByTestId('bulk-preview')).toContainText('prefix length');
  await bulk.getByTestId('bulk-add').click();
  await expect(page.getByTestId('bulk-results')).toContainText('line 1: 127.0.0.1, CI runner — added 127.0.0.1/32');
  await expect(page.getByTestId('bulk-results')).toContainText('line 2: 10.0.0.0/33 — not added');
  await expect(page.getByTestId('allowlist-row')).toHaveCount(2);
  expect(await m2mStatus(request)).toBe(200);

  // Check an address, in the browser.
  const check = page.getByLabel('IP address', { exact: true });
  await check.fill('198.51.100.42');
  await expect(page.getByTestId('check-result')).toHaveText('198.51.100.42 is allowed by 198.51.100.0/24.');
  await check.fill('192.0.2.1');
  await expect(page.getByTestId('check-result')).toHaveText('192.0.2.1 would be refused: no entry contains it.');

  // Deleting the entry the client depends on names it first; the last entry says more.
  await expect(caller).toContainText('Allowed');
  const ci = page.getByTestId('allowlist-row').filter({ hasText: '127.0.0.1/32' });
  await ci.getByTestId('delete-entry').click();
  await expect(ci.getByTestId('confirmation')).toContainText('sandbox-m2m-staging would be refused');
  await ci.getByLabel('I understand').check();
  await ci.locator('.inline-dialog__body:visible').getByRole('button', { name: 'Yes, delete 127.0.0.1/32' }).click();
  await expect(page.getByTestId('allowlist-row')).toHaveCount(1);
  // The row went with the focus: it is on the Delete of the row that took its place.
  await expect(page.getByTestId('allowlist-row').getByTestId('delete-entry')).toBeFocused();
  expect(await m2mStatus(request)).toBe(403);

  const last = page.getByTestId('allowlist-row');
  await last.getByTestId('delete-entry').click();
  await expect(last.getByTestId('confirmation')).toContainText('will accept M2M traffic from every address');
  await last.getByLabel('I understand').check();
  await last.locator('.inline-dialog__body:visible').getByRole('button', { name: 'Yes, delete 198.51.100.0/24' }).click();
  await expect(page.getByTestId('allowlist-empty')).toBeVisible();
  await expect(page.getByTestId('announcement')).toHaveText('Deleted 198.51.100.0/24.');
  await expect(page.locator('#main'), 'no row is left: the focus is on the page').toBeFocused();
  expect(await m2mStatus(request)).toBe(200);
});

test.describe('a stale confirmation', () => {
  // The server refuses the stale confirmation with a 428, which the browser logs.
  test.use({ expectedConsoleErrors: [/status of 428 .*\/api\/allowlist\/add/] });

  test('a confirmation given before a new M2M caller appeared is asked for again, naming it', async ({ page, request }) => {
    await signIn(page, '/security');
    await waitForHydration(page);
    await switchTo(page, 'development', 'Development');
    await expect(page.getByTestId('allowlist-empty')).toBeVisible();
    const form = page.getByTestId('add-entry-form');
    await form.getByLabel('IP address or CIDR network').fill('198.51.100.0/24');
    await expect(form.getByTestId('confirmation')).toContainText('will be refused at once');
    await expect(form.getByTestId('confirmation')).not.toContainText('sandbox-m2m-development');
    await form.getByLabel('I understand').check();
    // While the member reads, development's M2M client calls for the first time.
    expect(await m2mStatus(request, 'development')).toBe(200);
    await form.getByTestId('add-entry').click();
    await expect(page.getByTestId('announcement')).toContainText('does more than the page showed');
    // Nothing saved; the form, kept, now names the client and asks again.
    await expect(page.getByTestId('allowlist-empty')).toBeVisible();
    expect(await m2mStatus(request, 'development')).toBe(200);
    await expect(form.getByLabel('IP address or CIDR network')).toHaveValue('198.51.100.0/24');
    await expect(form.getByTestId('confirmation')).toContainText(
      'sandbox-m2m-development would be refused: it last called from 127.0.0.1',
    );
    await expect(form.getByLabel('I understand')).not.toBeChecked();
    await form.getByLabel('I understand').check();
    await form.getByTestId('add-entry').click();
    await expect(page.getByTestId('announcement')).toHaveText('Added 198.51.100.0/24.');
    expect(await m2mStatus(request, 'development')).toBe(403);

    // Left as found: the list emptied again.
    const row = page.getByTestId('allowlist-row');
    await row.getByTestId('delete-entry').click();
    await row.getByLabel('I understand').check();
    await row.locator('.inline-dialog__body:visible').getByRole('button', { name: 'Yes, delete 198.51.100.0/24' }).click();
    await expect(page.getByTestId('allowlist-empty')).toBeVisible();
    expect(await m2mStatus(request, 'development')).toBe(200);
  });
});

test('a viewer sees the production list read-only', async ({ page }) => {
  await signIn(page, '/security', DMITRI);
  await waitForHydration(page);
  await switchTo(page, 'production', 'Production');
  await expect(page.getByTestId('allowlist-row')).toHaveCount(3);
  await expect(page.getByTestId('allowlist-table')).toContainText('2001:db8:ac3e::/48');
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('add-entry-form')).toHaveCount(0);
  await expect(page.getByTestId('delete-entry')).toHaveCount(0);
});

test('a long allowlist is paged without a reload, the range in the pager and the focus kept', async ({ page, request }) => {
  // 105 entries on staging (three pages), added through the API as Ada (the bulk form is tested
  // above) and removed at the end whatever happens, so later tests see the list they expect.
  const token = await request.post(`${SANDBOX_URL}/_sandbox/user-token`, { data: { user_id: 'auth0|acme-ada' } });
  const headers = { Authorization: `Bearer ${(await token.json()).access_token}`, 'X-Keystone-Environment': 'staging' };
  const environments = await (await request.get(`${SANDBOX_URL}/v1/platforms/me/environments`, { headers })).json();
  const staging = environments.items.find((environment: { slug: string }) => environment.slug === 'staging');
  const list = `${SANDBOX_URL}/v1/platforms/me/environments/${staging.id}/ip-allowlist`;
  const ids: string[] = [];
  try {
    for (let i = 0; i < 105; i++) {
      const reply = await request.post(list, { headers, data: { cidr: `10.9.${i}.0/24`, description: `paging ${i}` } });
      expect(reply.status()).toBe(201);
      ids.push((await reply.json()).id);
    }
    await signIn(page, '/security');
    await waitForHydration(page);
    await switchTo(page, 'staging', 'Staging');
    const rows = page.getByTestId('allowlist-row');
    const range = page.getByRole('status').filter({ hasText: ' of 105' });
    await expect(rows).toHaveCount(50);
    await expect(range).toHaveText('1–50 of 105');
    await page.evaluate(() => ((window as any).__sameDocument = true));

    // The table and its pager are rebuilt from each page's read; the keyboard focus comes back
    // to the link pressed, or to the other one where the list ends, and the pager's name says
    // which rows are shown.
    const pages = page.getByRole('navigation', { name: 'Pages' });
    const next = pages.getByRole('link', { name: 'Next →' });
    const previous = pages.getByRole('link', { name: '← Previous' });
    // A slow read: the old rows stay, the reading bar says the next ones are on their way, and
    // it goes when they arrive.
    const reading = page.getByRole('progressbar', { name: 'Loading' });
    await expect(reading).toBeHidden();
    const listPath = new URL(list).pathname;
    await setFaults({ rules: [{ method: 'GET', path_prefix: listPath, action: { kind: 'delay', ms: 1500 }, times: 1 }] });
    await next.focus();
    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/security\?offset=50$/);
    await expect(reading).toBeVisible();
    await expect(reading, 'shown once its beat has passed').toHaveCSS('opacity', '1');
    await expect(range).toHaveText('1–50 of 105');
    await expect(range).toHaveText('51–100 of 105');
    await expect(reading).toBeHidden();
    await expect(next, 'the focus stays on "Next"').toBeFocused();
    await expect(page.getByRole('navigation', { name: 'Pages, 51–100 of 105 shown' })).toHaveCount(1);

    await page.keyboard.press('Enter');
    await expect(page).toHaveURL(/\/security\?offset=100$/);
    await expect(range).toHaveText('101–105 of 105');
    await expect(rows).toHaveCount(5);
    await expect(rows.first()).toContainText('10.9.100.0/24');
    await expect(next).toHaveCount(0);
    await expect(previous, 'the focus moves to "Previous" where "Next" is gone').toBeFocused();

    await page.keyboard.press('Enter');
    await expect(range).toHaveText('51–100 of 105');
    await expect(previous, 'the focus stays on "Previous"').toBeFocused();
    await page.keyboard.press('Enter');
    await expect(range).toHaveText('1–50 of 105');
    await expect(rows.first()).toContainText('10.9.0.0/24');
    await expect(next, 'the focus moves to "Next" where "Previous" is gone').toBeFocused();
    expect(await page.evaluate(() => (window as any).__sameDocument), 'paged without a reload').toBe(true);

    // A list left while it is being read counts no more: the bar goes once the next page is in.
    await setFaults({ rules: [{ method: 'GET', path_prefix: listPath, action: { kind: 'delay', ms: 3000 }, times: 1 }] });
    await next.click();
    await expect(reading).toBeVisible();
    await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Roles' }).click();
    await expect(page.getByRole('heading', { level: 1, name: 'Roles' })).toBeVisible();
    await expect(reading).toBeHidden();
  } finally {
    await setFaults({});
    for (const id of ids) await request.delete(`${list}/${id}`, { headers });
  }
});

test.describe('an add from a page of an environment another tab switched away from', () => {
  // The refusal is provoked on purpose.
  test.use({ expectedConsoleErrors: [/status of 409 .*\/api\/allowlist\/add/] });

  test('is refused, and the page and its top bar move to where the session is', async ({ page, context }) => {
    await signIn(page, '/security');
    await waitForHydration(page);
    await switchTo(page, 'staging', 'Staging');
    // Another tab switches the session to development; this one still shows staging.
    const other = await context.newPage();
    await other.goto('/security');
    await waitForHydration(other);
    await switchTo(other, 'development', 'Development');
    await other.close();

    const form = page.getByTestId('add-entry-form');
    await form.getByLabel('IP address or CIDR network').fill('192.0.2.0/24');
    // Staging's first entry, confirmed as the page asks.
    await form.getByLabel('I understand').check();
    await page.getByTestId('add-entry').click();
    await expect(page.getByTestId('announcement')).toContainText('you have since switched to Development');
    await expect(page.getByTestId('allowlist-environment')).toHaveText('Development');
    await expect(page.getByTestId('environment-switcher')).toHaveValue('development');
  });
});
