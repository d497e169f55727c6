import { test, expect, signIn, waitForHydration } from './fixtures';

/**
 * The README's screenshots, taken from the real pages. In the test run they go to test-results (and
 * double as a smoke test of every main page, hydrated, at a desktop size); `scripts/screenshots`
 * writes them into docs/screenshots for committing.
 */
const dir = process.env.KEYSTONE_SCREENSHOT_DIR ?? 'test-results/screenshots';

const pages: { path: string; file: string; heading: RegExp }[] = [
  { path: '/', file: 'overview.png', heading: /^Overview$/ },
  { path: '/members', file: 'members.png', heading: /^Members$/ },
  { path: '/roles', file: 'roles.png', heading: /^Roles$/ },
  { path: '/environments', file: 'environments.png', heading: /^Environments$/ },
  { path: '/security', file: 'security.png', heading: /^Security$/ },
  { path: '/activity', file: 'activity.png', heading: /^Activity$/ },
];

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
