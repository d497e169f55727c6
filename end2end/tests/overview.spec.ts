import { test, expect, signIn, waitForHydration, setOnboarding, startReceiver, adaOnTheApi, pauseActiveEndpoints } from './fixtures';

test('a platform still onboarding is walked through its first steps until they are done', async ({ page, browser }) => {
  const api = await adaOnTheApi();
  const receiver = await startReceiver();
  // A platform that has not received a webhook yet: its endpoints (the seeded one delivered)
  // paused for the test, and onboarding not complete.
  const resume = await pauseActiveEndpoints(api);
  await setOnboarding(false);
  try {
    await signIn(page, '/');
    await waitForHydration(page);
    // Ticked from what the API holds: the seeded team, environments and production list are
    // there; no active endpoint has received a delivery.
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
    // Said, and the focus is on the page's content, not dropped to its top with the button.
    await expect(page.getByTestId('announcement')).toHaveText('The getting-started checklist is dismissed.');
    await expect(page.locator('#main')).toBeFocused();
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
    } finally {
      await context.close();
    }
  } finally {
    // Left as found, whatever happened above.
    await setOnboarding(true);
    const { items: now } = await api('GET', '/platforms/me/webhooks');
    for (const endpoint of now.filter((endpoint: any) => endpoint.url === receiver.url)) {
      await api('DELETE', `/platforms/me/webhooks/${endpoint.id}`);
    }
    await resume();
    await receiver.close();
  }
});
