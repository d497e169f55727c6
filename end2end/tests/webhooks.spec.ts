import { createHmac } from 'node:crypto';
import { test, expect, signIn, waitForHydration, startReceiver, setFaults, SANDBOX_URL, DMITRI } from './fixtures';

/** An event, as a settlement changing state sends it (the sandbox's control API). */
async function emit(event: string) {
  const reply = await fetch(`${SANDBOX_URL}/_sandbox/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ event, data: {} }),
  });
  expect(reply.ok).toBe(true);
}

/** What a receiver does with its secret: the hex HMAC-SHA256 of the raw body. */
const sign = (secret: string, body: Buffer) => createHmac('sha256', secret).update(body).digest('hex');

test.describe('an endpoint’s whole life', () => {
  // The log of an endpoint just deleted is read once more, and the API answers 404.
  test.use({ expectedConsoleErrors: [/status of 404 .*\/api\/webhooks\/deliveries/] });

  test('create an endpoint, copy its one-time secret, test it, rotate, disable and delete it', async ({
    page,
    context,
  }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    const receiver = await startReceiver();
    try {
      await signIn(page, '/');
      await waitForHydration(page);
      await page.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Webhooks' }).click();
      await expect(page.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
      await expect(page.getByTestId('webhook-row')).not.toHaveCount(0);

      // The URL is checked as it is typed: plain http only to a loopback listener.
      const form = page.getByTestId('create-webhook-form');
      const url = form.getByLabel('URL', { exact: true });
      await url.fill('http://hooks.acme.example/in');
      await expect(page.getByTestId('webhook-url-hint')).toContainText('must use https://');
      await expect(page.getByTestId('create-webhook')).toBeDisabled();
      await url.fill(receiver.url);
      await expect(page.getByTestId('create-webhook')).toBeEnabled();
      await form.getByLabel('Description (optional)').fill('Ledger service');
      await form.getByLabel(/^Every event/).uncheck();
      await form.getByLabel(/^A settlement completed/).check();
      await page.getByTestId('create-webhook').click();

      // The secret, shown once, with a copy button, which has the focus: the panel appears above the
      // list, away from the form.
      const shown = page.getByTestId('one-time-secret');
      await expect(shown).toContainText('you will not see it again');
      await expect(page.getByTestId('copy-secret')).toBeFocused();
      const secret = await page.getByTestId('secret-value').inputValue();
      expect(secret.length).toBeGreaterThan(20);
      await page.getByTestId('copy-secret').click();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
      const row = page.locator(`[data-testid="webhook-row"][data-url="${receiver.url}"]`);
      await expect(row).toContainText('A settlement completed');
      await expect(form.getByLabel('URL', { exact: true })).toHaveValue('');

      // A test delivery, really received and verified with the secret shown at creation. While it
      // is on its way, only this row's button says so; the seeded endpoint's waits, disabled, with
      // its own label.
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      await page.route('**/api/webhooks/test', async (route) => {
        await held;
        await route.continue();
      });
      await row.getByTestId('send-test').click();
      await expect(row.getByTestId('send-test')).toHaveText(/^Sending…/);
      const other = page.locator(`[data-testid="webhook-row"]:not([data-url="${receiver.url}"])`).first();
      await expect(other.getByTestId('send-test')).toHaveText(/^Send test/);
      await expect(other.getByTestId('send-test')).toBeDisabled();
      release();
      await expect(page.getByTestId('announcement')).toContainText(`Delivered to ${receiver.url}: 204 in`);
      await page.unroute('**/api/webhooks/test');
      await expect(row.getByTestId('test-result')).toContainText('204');
      expect(receiver.received).toHaveLength(1);
      const first = receiver.received[0];
      expect(first.headers['x-keystone-signature']).toBe(sign(secret, first.body));

      // Once stored, the secret is gone for good, and the focus goes on to the endpoint's row.
      await page.getByTestId('secret-stored').click();
      await expect(shown).toHaveCount(0);
      await expect(row.getByTestId('send-test')).toBeFocused();
      await page.reload();
      await waitForHydration(page);
      expect(await page.content()).not.toContain(secret);

      // The delivery log, below the list and the form: its heading takes the focus and the view.
      await row.getByTestId('show-deliveries').click();
      const log = page.getByTestId('delivery-log');
      await expect(log).toContainText(`Deliveries to ${receiver.url}`);
      const heading = log.getByRole('heading', { name: `Deliveries to ${receiver.url}` });
      await expect(heading).toBeFocused();
      await expect(log).toBeInViewport();
      // Clicked again, the address does not change: the heading takes the focus all the same.
      await row.getByTestId('send-test').focus();
      await row.getByTestId('show-deliveries').click();
      await expect(heading).toBeFocused();
      await expect(log.getByTestId('delivery-row')).toHaveCount(1);
      await expect(log.getByTestId('delivery-row').first()).toHaveAttribute('data-success', 'true');

      // Edited in its row: the description and one more event.
      await row.getByTestId('edit-webhook').click();
      const editing = row.locator('.inline-dialog__body:visible');
      await editing.getByLabel('Description').fill('Ledger service (EU)');
      await editing.getByLabel(/^A settlement failed/).check();
      await editing.getByRole('button', { name: 'Save' }).click();
      await expect(page.getByTestId('announcement')).toHaveText(`Saved ${receiver.url}.`);
      await expect(row).toContainText('Ledger service (EU)');
      await expect(row).toContainText('A settlement failed');

      // Rotation: confirmed, the new secret shown once, the old one still verifying in its window.
      await row.getByTestId('rotate-secret').click();
      await row.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
      await row.getByRole('button', { name: 'Rotate the secret' }).click();
      await expect(shown).toContainText('previous secret keeps working until');
      await expect(page.getByTestId('copy-secret')).toBeFocused();
      const newSecret = await page.getByTestId('secret-value').inputValue();
      expect(newSecret).not.toBe(secret);
      await emit('settlement.completed');
      expect(receiver.received).toHaveLength(2);
      const event = receiver.received[1];
      expect(event.headers['x-keystone-signature']).toBe(sign(newSecret, event.body));
      expect(event.headers['x-keystone-signature-previous']).toBe(sign(secret, event.body));

      // Disabled after a confirmation, it receives nothing; enabled again in one click; deleted
      // after a confirmation.
      await row.getByTestId('toggle-active').click();
      const disabling = row.locator('.inline-dialog__body:visible');
      await expect(disabling.getByTestId('confirmation')).toContainText(`stops sending events to ${receiver.url}`);
      await disabling.getByLabel('I understand').check();
      await disabling.getByRole('button', { name: `Yes, disable ${receiver.url}` }).click();
      await expect(page.getByTestId('announcement')).toHaveText(`${receiver.url} is disabled.`);
      await expect(row).toContainText('Disabled');
      await emit('settlement.completed');
      expect(receiver.received).toHaveLength(2);
      await row.getByTestId('toggle-active').click();
      await expect(row).toContainText('Active');
      await row.getByTestId('delete-webhook').click();
      await row.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
      await row.locator('.inline-dialog__body:visible').getByRole('button', { name: `Yes, delete ${receiver.url}` }).click();
      await expect(page.getByTestId('announcement')).toHaveText(`Deleted ${receiver.url}.`);
      await expect(row).toHaveCount(0);
      // Its log, still in the address, goes with it, said in place rather than as a failure.
      await expect(log).toHaveCount(0);
      await expect(page.getByTestId('delivery-log-gone')).toContainText('it may have been deleted');
      await expect(page.locator('.panel--error')).toHaveCount(0);
    } finally {
      await receiver.close();
    }
  });
});

test('a member without the webhook permission is told why', async ({ page }) => {
  await signIn(page, '/webhooks', DMITRI);
  await expect(page.getByTestId('read-only')).toContainText('platform:webhooks:manage');
  await expect(page.getByTestId('create-webhook-form')).toHaveCount(0);
});

test('a second secret shown before the first is stored does not take the first off the screen', async ({ page }) => {
  await signIn(page, '/webhooks');
  await waitForHydration(page);
  const url = 'https://hooks.acme.example/second-secret';
  const form = page.getByTestId('create-webhook-form');
  await form.getByLabel('URL', { exact: true }).fill(url);
  await page.getByTestId('create-webhook').click();
  const created = page.locator(`[data-testid="one-time-secret"][data-url="${url}"]`);
  const createdSecret = await created.getByTestId('secret-value').inputValue();
  expect(createdSecret.length).toBeGreaterThan(20);

  // Another endpoint's secret rotated before the first is stored: both are shown, the newest
  // first, with the focus.
  const other = page.locator(`[data-testid="webhook-row"]:not([data-url="${url}"])`).first();
  const otherUrl = await other.getAttribute('data-url');
  await other.getByTestId('rotate-secret').click();
  await other.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
  await other.getByRole('button', { name: 'Rotate the secret' }).click();
  const rotated = page.locator(`[data-testid="one-time-secret"][data-url="${otherUrl}"]`);
  await expect(rotated).toContainText('previous secret keeps working until');
  await expect(rotated.getByTestId('copy-secret')).toBeFocused();
  await expect(page.getByTestId('one-time-secret')).toHaveCount(2);
  await expect(page.getByTestId('one-time-secret').first()).toHaveAttribute('data-url', otherUrl!);
  await expect(created.getByTestId('secret-value')).toHaveValue(createdSecret);

  // The same endpoint rotated again: its newer secret replaces its own earlier one only.
  const rotatedSecret = await rotated.getByTestId('secret-value').inputValue();
  await other.getByTestId('rotate-secret').click();
  await other.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
  await other.getByRole('button', { name: 'Rotate the secret' }).click();
  await expect(rotated.getByTestId('secret-value')).not.toHaveValue(rotatedSecret);
  await expect(page.getByTestId('one-time-secret')).toHaveCount(2);

  // Each is dismissed on its own.
  await created.getByTestId('secret-stored').click();
  await expect(created).toHaveCount(0);
  await expect(rotated).toHaveCount(1);
  await rotated.getByTestId('secret-stored').click();
  await expect(page.getByTestId('one-time-secret')).toHaveCount(0);
});

test.describe('the endpoints list read again', () => {
  test.afterEach(async () => setFaults({}));
  test.use({ expectedConsoleErrors: [/status of 503/] });

  test('keeps the list and its forms when it fails after a delivery log was opened', async ({ page }) => {
    await signIn(page, '/webhooks');
    await waitForHydration(page);
    const row = page.getByTestId('webhook-row').first();
    // The address now names the log shown; the list is read by its changes alone.
    await row.getByTestId('show-deliveries').click();
    await expect(page).toHaveURL(/endpoint=/);
    await expect(page.getByTestId('delivery-log')).toBeVisible();
    await setFaults({ rules: [{ method: 'GET', path_prefix: '/v1/platforms/me/webhooks?', action: { kind: 'status', status: 503 } }] });
    await row.getByTestId('edit-webhook').click();
    await row.locator('.inline-dialog__body:visible').getByRole('button', { name: 'Save' }).click();
    const notice = page.getByTestId('read-again-failed');
    await expect(notice).toContainText('may be out of date');
    await expect(page.getByTestId('create-webhook-form')).toBeVisible();
    await expect(page.locator('.panel--error')).toHaveCount(0);
    await setFaults({});
    await notice.getByRole('button', { name: 'Try again' }).click();
    await expect(notice).toHaveCount(0);
  });
});
