import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import { test, expect, signIn, waitForHydration, switchTo, adaOnTheApi, ADA, DMITRI } from './fixtures';

/**
 * Every page, for a member who may change things and one who may only look, wide and at a phone's
 * 390 px: axe-core finds no serious or critical violation (WCAG 2.x A and AA rules), and nothing
 * is wider than the screen (the page itself never scrolls sideways; wide tables scroll in place).
 */
const PAGES = ['/', '/members', '/roles', '/environments', '/security', '/activity', '/upstream-check', '/settings', '/webhooks'];
const VIEWPORTS = [
  { name: 'wide', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

async function seriousViolations(page: Page) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      rule: violation.id,
      impact: violation.impact,
      help: violation.help,
      nodes: violation.nodes.map((node) => node.target.join(' ')).slice(0, 5),
    }));
}

for (const who of [ADA, DMITRI]) {
  for (const viewport of VIEWPORTS) {
    test(`every page passes axe-core for ${who.name} at ${viewport.name} width`, async ({ page }) => {
      test.setTimeout(120_000);
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await signIn(page, '/', who);
      // Every page is checked before failing, so one run lists every violation.
      const found: Record<string, unknown> = {};
      for (const path of PAGES) {
        await page.goto(path);
        await waitForHydration(page);
        await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
        if (path === '/upstream-check' && who === ADA) {
          // The report is part of the page too: run the check and test what it shows.
          await page.getByTestId('run-check').click();
          await expect(page.getByTestId('check-report')).toBeVisible({ timeout: 30_000 });
        }
        await page.screenshot({
          path: `test-results/a11y/${viewport.name}-${who === ADA ? 'manager' : 'viewer'}${path.replace(/\//g, '-')}.png`,
          fullPage: true,
        });
        const violations = await seriousViolations(page);
        if (violations.length > 0) found[`axe-core on ${path}`] = violations;
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        if (overflow > 0) found[`sideways scroll on ${path}`] = `${overflow} px wider than the screen`;
      }
      expect(found).toEqual({});
    });
  }
}

/**
 * The accessible names of the controls in a table's rows, as the accessibility tree gives them
 * (what a list of buttons reads out, and what a voice command answers to): hidden parts included,
 * hidden elements and closed dialogs left out.
 */
async function rowControlNames(page: Page) {
  const names: string[] = [];
  for (const cell of await page.locator('td.row-actions').all()) {
    for (const line of (await cell.ariaSnapshot()).split('\n')) {
      const control = line.match(/^\s*- (?:button|link) "((?:[^"\\]|\\.)*)"/);
      if (control) names.push(control[1]);
    }
  }
  return names;
}

async function expectEveryNameOnce(page: Page, where: string) {
  const names = await rowControlNames(page);
  expect(names.length, `row controls on ${where}`).toBeGreaterThan(2);
  const repeated = names.filter((name, index) => names.indexOf(name) !== index);
  expect(repeated, `controls on ${where} whose name another's has`).toEqual([]);
}

test("every row's buttons say which row they act on", async ({ page }) => {
  // Every row has an "Edit" and a "Delete": a list of a page's buttons read out, or a voice
  // command, must still tell them apart (WCAG 2.4.6, 2.5.3).
  const api = await adaOnTheApi();
  const second = await api('POST', '/platforms/me/webhooks', {
    url: 'https://ledger.acme-markets.example/keystone',
    description: 'A second endpoint, so the table has two rows to tell apart',
  });
  try {
    await signIn(page, '/members');
    const pages: [string, string, string][] = [
      ['/members', 'member-row', 'Remove Dmitri Volkov'],
      ['/environments', 'environment-row', 'Deactivate Staging'],
      ['/webhooks', 'webhook-row', 'Delete https://ledger.acme-markets.example/keystone'],
      ['/security', 'allowlist-row', 'Delete 203.0.113.0/24'],
    ];
    for (const [path, row, example] of pages) {
      await page.goto(path);
      await waitForHydration(page);
      if (path === '/security') await switchTo(page, 'production', 'Production');
      expect(await page.getByTestId(row).count(), `rows on ${path}`).toBeGreaterThan(1);
      await expectEveryNameOnce(page, path);
      await expect(page.getByRole('button', { name: example, exact: true })).toBeVisible();
      if (path === '/members') {
        // The invitations' table too, with one of its dialogs open.
        await page.getByTestId('invitation-row').first().getByTestId('revoke').click();
        await expect(page.getByRole('button', { name: /^Yes, revoke the invitation of/ })).toBeVisible();
        await expectEveryNameOnce(page, '/members with an invitation dialog open');
      }
    }
    // An open dialog's confirming button is not named as the button that opened it.
    await page.getByRole('button', { name: 'Delete 203.0.113.0/24', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Yes, delete 203.0.113.0/24', exact: true })).toBeVisible();
    await expectEveryNameOnce(page, '/security with a dialog open');
  } finally {
    await api('DELETE', `/platforms/me/webhooks/${second.id}`);
  }
});

test('the open dialogs and the account menu pass axe-core too', async ({ page }) => {
  await signIn(page, '/members');
  await waitForHydration(page);
  await page.locator('summary.user-menu__button').click();
  await page.getByTestId('member-row').getByText('Change roles').first().click();
  expect(await seriousViolations(page), 'members with dialogs open').toEqual([]);
  await page.goto('/environments');
  await waitForHydration(page);
  await page.getByTestId('deactivate').first().click();
  await expect(page.locator('.inline-dialog__body:visible').getByTestId('confirmation')).toBeVisible();
  expect(await seriousViolations(page), 'environments with a confirmation open').toEqual([]);
});

test('keyboard focus is always visible', async ({ page }) => {
  await signIn(page, '/');
  // Tab through the first stops of each page: every focused element draws an outline that stands
  // out from what is around it (WCAG 1.4.11: 3:1 against the adjacent colour).
  for (const path of ['/', '/members', '/environments', '/security', '/activity']) {
    await page.goto(path);
    await waitForHydration(page);
    for (let stop = 0; stop < 30; stop++) {
      await page.keyboard.press('Tab');
      const focus = await page.evaluate(() => {
        const element = document.activeElement as HTMLElement | null;
        if (!element || element === document.body) return null;
        const style = getComputedStyle(element);
        // An outline, not a shadow: decorative shadows would pass for a focus ring.
        const drawn = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
        const channels = (colour: string) => (colour.match(/[\d.]+/g) ?? []).map(Number);
        const luminance = ([r, g, b]: number[]) => {
          const linear = [r, g, b].map((value) => {
            const share = value / 255;
            return share <= 0.03928 ? share / 12.92 : ((share + 0.055) / 1.055) ** 2.4;
          });
          return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
        };
        // The ring is drawn outside the element, over its surroundings: the nearest ancestor
        // that paints a background (the page's white when none does).
        let around = [255, 255, 255];
        for (let node = element.parentElement; node; node = node.parentElement) {
          const paint = channels(getComputedStyle(node).backgroundColor);
          if (paint.length >= 3 && (paint.length < 4 || paint[3] > 0)) {
            around = paint.slice(0, 3);
            break;
          }
        }
        const [lighter, darker] = [luminance(channels(style.outlineColor)), luminance(around)].sort((a, b) => b - a);
        const contrast = (lighter + 0.05) / (darker + 0.05);
        return { what: `${element.tagName} ${element.textContent?.trim().slice(0, 30)}`, drawn, contrast };
      });
      if (focus) {
        expect(focus.drawn, `focus ring on ${focus.what} (${path})`).toBe(true);
        expect(focus.contrast, `focus ring's contrast on ${focus.what} (${path})`).toBeGreaterThanOrEqual(3);
      }
    }
  }
});
