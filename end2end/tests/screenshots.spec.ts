import { test, expect, signIn, waitForHydration, adaOnTheApi, m2mStatus, pauseActiveEndpoints, setOnboarding, switchTo, MAIN_PAGES } from './fixtures';

/**
 * The README's screenshots, taken from the real pages. In the test run they go to test-results (and
 * double as a smoke test of every main page, hydrated, at a desktop size); `scripts/screenshots`
 * writes them into docs/screenshots for committing.
 */
const dir = process.env.KEYSTONE_SCREENSHOT_DIR ?? 'test-results/screenshots';

// The README's pictures: every sidebar page but the API check, named after its path.
const pages = MAIN_PAGES.filter(({ path }) => path !== '/upstream-check').map((page) => ({
  ...page,
  file: page.path === '/' ? 'overview.png' : `${page.path.slice(1)}.png`,
}));

test.use({ viewport: { width: 1280, height: 800 } });

test('every main page renders, hydrates and is photographed', async ({ page }) => {
  await signIn(page, '/');
  for (const { path, file, heading } of pages) {
    await page.goto(path);
    await waitForHydration(page);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
    // No loading placeholders left in the picture.
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    await page.screenshot({ path: `${dir}/${file}` });
  }
});

test('the getting-started checklist and the lockout preview are photographed', async ({ page, request }) => {
  // A platform still onboarding, with no endpoint receiving yet (the seeded one has finished and
  // delivered): its overview leads with the checklist.
  const resume = await pauseActiveEndpoints(await adaOnTheApi());
  await setOnboarding(false);
  try {
    await signIn(page, '/');
    await waitForHydration(page);
    await expect(page.getByTestId('getting-started')).toBeVisible();
    await expect(page.locator('[aria-busy="true"]')).toHaveCount(0);
    await page.screenshot({ path: `${dir}/getting-started.png` });
  } finally {
    await setOnboarding(true);
    await resume();
  }

  // staging's M2M client calls from this machine; a first entry that leaves it out names it
  // before anything is saved. The picture is of the form; nothing is added.
  expect(await m2mStatus(request)).toBe(200);
  await page.goto('/security');
  await waitForHydration(page);
  await switchTo(page, 'staging', 'Staging');
  const form = page.getByTestId('add-entry-form');
  await form.getByLabel('IP address or CIDR network').fill('198.51.100.0/24');
  await form.getByLabel('Description (optional)').fill('Office VPN');
  await expect(form.getByTestId('confirmation')).toContainText('sandbox-m2m-staging would be refused');
  await form.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${dir}/lockout-preview.png` });
  expect(await m2mStatus(request)).toBe(200);
});
