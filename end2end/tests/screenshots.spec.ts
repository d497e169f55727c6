import { test, expect, signIn, waitForHydration, MAIN_PAGES } from './fixtures';

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
