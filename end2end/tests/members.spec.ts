import { Page } from '@playwright/test';
import { test, expect, signIn, waitForHydration, setFaults, DMITRI } from './fixtures';

test('invite, accept as the invitee, change the role, remove, revoke', async ({ page, browser, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await signIn(page, '/members');
  await waitForHydration(page);

  // Two addresses: one is already a member and gets its own error; the other is invited.
  const form = page.getByTestId('invite-form');
  await form.getByLabel(/Email addresses/).fill('newbie@example.com, ben@acme-markets.example');
  await form.getByLabel(/^Developer/).check();
  await form.getByTestId('send-invitations').click();
  const results = page.getByTestId('invite-results');
  await expect(results).toContainText('newbie@example.com: invited');
  await expect(results).toContainText('ben@acme-markets.example: not invited');
  // The button, disabled while the invitations went out, has the focus back: the keyboard goes
  // on from where it was, not from the top of the page.
  await expect(form.getByTestId('send-invitations')).toBeFocused();
  const invitation = page.locator('[data-testid="invitation-row"][data-email="newbie@example.com"]');
  await expect(invitation).toContainText('Developer');
  await expect(invitation).toContainText('in 7 days');
  const link = await invitation.getByTestId('invitation-link').inputValue();
  expect(link).toContain('/auth/login?invitation=');
  await invitation.getByTestId('copy-link').click();
  await expect(invitation.getByTestId('copy-link')).toHaveText(/^Copied \(invitation link for /);
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(link);

  // The invitee, in a browser of their own, follows the link and lands in the dashboard.
  const invitee = await browser.newContext();
  const inviteePage = await invitee.newPage();
  await inviteePage.goto(link);
  // Asked on the dashboard's own page first: a link alone accepts nothing.
  await expect(inviteePage.getByRole('heading', { name: 'Accept the invitation?' })).toBeVisible();
  await inviteePage.getByRole('button', { name: 'Accept the invitation' }).click();
  await inviteePage.getByRole('button', { name: 'Accept and sign in as newbie@example.com' }).click();
  await expect(inviteePage.getByTestId('member-name')).toHaveText('newbie');
  await invitee.close();

  // The new member appears with the invited role; the invitation is gone.
  await page.goto('/members?search=newbie');
  await waitForHydration(page);
  const row = page.locator('[data-testid="member-row"][data-email="newbie@example.com"]');
  await expect(row.getByTestId('member-roles')).toHaveText('Developer');
  await expect(page.locator('[data-testid="invitation-row"][data-email="newbie@example.com"]')).toHaveCount(0);

  // Change the role.
  await row.getByRole('button', { name: /^Change roles\b/ }).click();
  await row.getByLabel(/^Developer/).uncheck();
  await row.getByLabel(/^Viewer/).check();
  await row.getByRole('button', { name: 'Save roles' }).click();
  await expect(page.getByTestId('announcement')).toContainText('Updated the roles of newbie');
  await expect(row.getByTestId('member-roles')).toHaveText('Viewer');

  // Remove, after a confirmation that names the person.
  await row.getByRole('button', { name: /^Remove\b/ }).click();
  await expect(row.getByRole('alert')).toContainText('Remove newbie from the platform?');
  await expect(row.getByRole('alert')).toContainText('They lose access to the platform at once');
  await row.getByLabel('I understand').check();
  await row.locator('.inline-dialog__body:visible').getByRole('button', { name: 'Yes, remove newbie' }).click();
  await expect(page.getByTestId('announcement')).toHaveText('Member removed.');
  await expect(row).toHaveCount(0);

  // Revoke another pending invitation.
  await page.goto('/members');
  await waitForHydration(page);
  const pending = page.getByTestId('invitation-row');
  const before = await pending.count();
  const first = pending.first();
  await first.getByTestId('revoke').click();
  await first.getByLabel('I understand').check();
  await first.locator('.inline-dialog__body:visible').getByRole('button', { name: /^Yes, revoke the invitation of/ }).click();
  await expect(page.getByTestId('announcement')).toHaveText('Invitation revoked.');
  await expect(pending).toHaveCount(before - 1);
});

test('the invite button has the focus back when the page has reloaded before the next frame', async ({ page }) => {
  // Frames are held from the click on, as a busy browser that draws late holds them: the page's
  // reload after the invitations comes back, and the page's components are built again (the
  // button's among them), before the frame in which the button was to have the focus back.
  await page.addInitScript(() => {
    const draw = window.requestAnimationFrame.bind(window);
    const held: FrameRequestCallback[] = [];
    let holding = false;
    window.requestAnimationFrame = (callback) => {
      if (!holding) return draw(callback);
      held.push(callback);
      return 0;
    };
    document.addEventListener('click', (event) => {
      holding ||= !!(event.target as Element).closest('[data-testid="send-invitations"]');
    }, { capture: true });
    (window as any).__releaseFrames = () => {
      holding = false;
      held.splice(0).forEach((callback) => draw(callback));
    };
  });
  await signIn(page, '/members');
  await waitForHydration(page);
  const form = page.getByTestId('invite-form');
  // Already a member: nothing is created, but the page reloads all the same.
  await form.getByLabel(/Email addresses/).fill('ben@acme-markets.example');
  await form.getByLabel(/^Developer/).check();
  const reloaded = page.waitForResponse((response) => new URL(response.url()).pathname === '/api/members');
  await form.getByTestId('send-invitations').click();
  await expect(page.getByTestId('invite-results')).toContainText('ben@acme-markets.example: not invited');
  await reloaded;
  await expect(page.getByTestId('reading-bar')).toBeHidden();
  await page.evaluate(() => (window as any).__releaseFrames());
  await expect(form.getByTestId('send-invitations')).toBeFocused();
});

test('a viewer sees the team and the roles read-only', async ({ page }) => {
  await signIn(page, '/members', DMITRI);
  await expect(page.getByTestId('members-table')).toBeVisible();
  await expect(page.getByTestId('read-only')).toBeVisible();
  await expect(page.getByTestId('invite-form')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /^Change roles\b/, includeHidden: true })).toHaveCount(0);
  await page.goto('/roles');
  await expect(page.getByTestId('permission-matrix')).toContainText('Change IP allowlists');
  await expect(page.getByTestId('role-card')).toHaveCount(4);
});

test('without JavaScript a row dialog opens through its link and keeps the search', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await signIn(page, '/members?search=ben');
  const row = page.locator('[data-testid="member-row"][data-email="ben@acme-markets.example"]');
  await expect(row.getByRole('button', { name: 'Save roles' })).toHaveCount(0);
  await row.getByRole('button', { name: /^Change roles\b/ }).click();
  // The server renders the page again with this row's dialog open; the search stays.
  await expect(page).toHaveURL(/search=ben/);
  await expect(page).toHaveURL(/open=roles%3A/);
  await expect(row.getByRole('button', { name: 'Save roles' })).toBeVisible();
  await expect(row.getByLabel(/^Viewer/)).toBeVisible();
  await expect(page.getByRole('button', { name: 'Save roles' })).toHaveCount(1);
  // Open, its button links to the page with no dialog open.
  await row.getByRole('button', { name: /^Change roles\b/ }).click();
  await expect(page).not.toHaveURL(/open=/);
  await expect(page).toHaveURL(/search=ben/);
  await expect(page.getByRole('button', { name: 'Save roles' })).toHaveCount(0);
  await context.close();
});

test.describe('an invitation whose answer is lost', () => {
  test.afterEach(async () => setFaults({}));

  test('is said to be unconfirmed, not refused, and it stands in the list', async ({ page }) => {
    await signIn(page, '/members');
    await waitForHydration(page);
    // The API makes the invitation, then the connection drops before its answer.
    await setFaults({
      rules: [{ method: 'POST', path_prefix: '/v1/platforms/me/invitations', times: 1, action: { kind: 'drop_after_apply' } }],
    });
    const form = page.getByTestId('invite-form');
    await form.getByLabel(/Email addresses/).fill('lost-reply@example.com');
    await form.getByLabel(/^Viewer/).check();
    await form.getByTestId('send-invitations').click();
    await expect(page.getByTestId('invite-results')).toContainText('lost-reply@example.com: may have been invited');
    await expect(page.getByTestId('announcement')).toContainText('1 may have been invited');
    const row = page.locator('[data-testid="invitation-row"][data-email="lost-reply@example.com"]');
    await expect(row).toBeVisible();
    // Left as found for the other tests.
    await row.getByTestId('revoke').click();
    await row.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
    await row.locator('.inline-dialog__body:visible').getByRole('button', { name: /^Yes, revoke/ }).click();
    await expect(row).toHaveCount(0);
  });
});

test.describe('a resend whose new invitation the API refuses', () => {
  test.afterEach(async () => setFaults({}));
  test.use({ expectedConsoleErrors: [/status of 409/] });

  /** Resends the first pending invitation; the revoke goes through, the new one is not made. */
  async function resendRefused(page: Page) {
    const row = page.getByTestId('invitation-row').first();
    const email = (await row.getAttribute('data-email'))!;
    const roles = (await row.locator('td').nth(1).innerText()).split(', ');
    await setFaults({
      rules: [{ method: 'POST', path_prefix: '/v1/platforms/me/invitations', times: 1, action: { kind: 'status', status: 503 } }],
    });
    await row.getByTestId('resend').click();
    await row.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
    await row.locator('.inline-dialog__body:visible').getByRole('button', { name: /^Yes, resend/ }).click();
    await expect(page.getByTestId('announcement')).toContainText(`The old invitation of ${email} was revoked`);
    await expect(page.locator(`[data-testid="invitation-row"][data-email="${email}"]`)).toHaveCount(0);
    await setFaults({});
    return { email, roles };
  }

  test('puts the address and its roles back in the invite form, which takes the focus', async ({ page }) => {
    await signIn(page, '/members');
    await waitForHydration(page);
    const { email, roles } = await resendRefused(page);
    await expect(page.getByTestId('announcement')).toContainText(roles.join(', '));
    const form = page.getByTestId('invite-form');
    const emails = form.getByLabel(/Email addresses/);
    await expect(emails).toHaveValue(email);
    await expect(emails).toBeFocused();
    for (const role of roles) await expect(form.getByLabel(new RegExp(`^${role}`))).toBeChecked();
    // Sent again from there, it stands in the list as before.
    await form.getByTestId('send-invitations').click();
    await expect(page.getByTestId('invite-results')).toContainText(`${email}: invited`);
    await expect(page.locator(`[data-testid="invitation-row"][data-email="${email}"]`)).toHaveCount(1);
  });

  test('leaves what is typed in the invite form alone, and the focus on the list, not lost', async ({ page }) => {
    await signIn(page, '/members');
    await waitForHydration(page);
    const form = page.getByTestId('invite-form');
    const emails = form.getByLabel(/Email addresses/);
    // A second pending invitation, to move up into the place of the one that goes.
    const spare = 'spare-invitation@example.com';
    await emails.fill(spare);
    await form.getByLabel(/^Viewer/).check();
    await form.getByTestId('send-invitations').click();
    await expect(page.getByTestId('invite-results')).toContainText(`${spare}: invited`);
    await emails.fill('someone-else@example.com');
    const { email, roles } = await resendRefused(page);
    await expect(emails).toHaveValue('someone-else@example.com');
    // The row went with the reload: the focus moves on to the list's next Resend, not to the page's top.
    await expect(page.getByTestId('invitation-row').first().getByTestId('resend')).toBeFocused();
    // Left as found for the other tests.
    await emails.fill(email);
    for (const role of roles) await form.getByLabel(new RegExp(`^${role}`)).check();
    await form.getByTestId('send-invitations').click();
    await expect(page.getByTestId('invite-results')).toContainText(`${email}: invited`);
    const spareRow = page.locator(`[data-testid="invitation-row"][data-email="${spare}"]`);
    await spareRow.getByTestId('revoke').click();
    await spareRow.locator('.inline-dialog__body:visible').getByLabel('I understand').check();
    await spareRow.locator('.inline-dialog__body:visible').getByRole('button', { name: /^Yes, revoke/ }).click();
    await expect(spareRow).toHaveCount(0);
  });
});
