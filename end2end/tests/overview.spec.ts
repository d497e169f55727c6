import { test, expect, signIn, waitForHydration, setOnboarding, startReceiver } from './fixtures';

test('a platform still onboarding is walked through its first steps until they are done', async ({ page, browser }) => {
  const receiver = await startReceiver();
  await setOnboarding(false);
  try {
    await signIn(page, '/');
    await waitForHydration(page);
    // Ticked from what the API holds: the seeded team, environments and production list are
    // there; no endpoint of the platform's has received a delivery yet.
    const checklist = page.getByTestId('getting-started');
    await expect(checklist).toContainText('3 of 4 done.');
    const steps = checklist.getByTestId('checklist-step');
    await expect(steps).toHaveCount(4);
    await expect(steps.filter({ hasText: 'Invite your team' })).toHaveAttribute('data-done', 'true');
    await expect(steps.filter({ hasText: 'Restrict production' })).toHaveAttribute('data-done', 'true');
    const webhookStep = steps.filter({ hasText: 'Receive webhooks' });
    await expect(webhookStep).toHaveAttribute('data-done', 'false');
    await expect(webhookStep).toContainText('(To do)');

    // Dismissed from the keyboard: gone, and still gone after a reload of this session.
    await page.getByTestId('dismiss-getting-started').focus();
    await page.keyboard.press('Enter');
    await expect(checklist).toHaveCount(0);
    await page.reload();
    await waitForHydration(page);
    await expect(page.getByTestId('environment-cards')).toBeVisible();
    await expect(checklist).toHaveCount(0);

    // Another session (the dismissal is per session) follows the step's link to where it is done.
    const context = await browser.newContext();
    const other = await context.newPage();
    try {
      await signIn(other, '/');
      await waitForHydration(other);
      await other
        .getByTestId('checklist-step')
        .filter({ hasText: 'Receive webhooks' })
        .getByRole('link')
        .click();
      await expect(other).toHaveURL(/\/webhooks$/);
      await expect(other.getByRole('heading', { level: 1, name: 'Webhooks' })).toBeVisible();
      await waitForHydration(other);
      const form = other.getByTestId('create-webhook-form');
      await form.getByLabel('URL', { exact: true }).fill(receiver.url);
      await other.getByTestId('create-webhook').click();
      await other.getByTestId('secret-stored').click();
      const row = other.locator(`[data-testid="webhook-row"][data-url="${receiver.url}"]`);
      await row.getByTestId('send-test').click();
      await expect(other.getByTestId('announcement')).toContainText(`Delivered to ${receiver.url}: 204 in`);
      expect(receiver.received).toHaveLength(1);

      // Every step done: the overview no longer shows the checklist.
      await other.getByRole('navigation', { name: 'Primary' }).getByRole('link', { name: 'Overview' }).click();
      await expect(other.getByTestId('environment-cards')).toBeVisible();
      await expect(other.getByTestId('getting-started')).toHaveCount(0);

      // Left as found: the endpoint deleted.
      await other.goto('/webhooks');
      await waitForHydration(other);
      await row.getByTestId('delete-webhook').click();
      await row.locator('details[open]').getByLabel('I understand').check();
      await row.getByRole('button', { name: `Delete ${receiver.url}` }).click();
      await expect(row).toHaveCount(0);
    } finally {
      await context.close();
    }
  } finally {
    await setOnboarding(true);
    await receiver.close();
  }
});
