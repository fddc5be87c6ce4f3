// Runs in the `no-js` project only: "Deploy now", following the deployment
// with the Refresh link, a confirmed power-off and a start from the
// student's home, and "End now", all as plain forms answered with redirects.
const { test, expect } = require('@playwright/test');
const { DEMO, login } = require('./helpers');

test.beforeEach(async ({}, testInfo) => {
  expect(testInfo.project.use.javaScriptEnabled, 'this file belongs to the no-js project').toBe(false);
});

/** Follows the Refresh link until the event shows `status`. */
async function refreshUntil(page, status) {
  await expect(async () => {
    await page.getByTestId('refresh').click();
    await expect(page.getByTestId('event-status')).toHaveText(status, { timeout: 1_000 });
  }).toPass({ timeout: 180_000, intervals: [2_000] });
}

test('an event is deployed, its VM powered off and on, and ended without JavaScript', async ({ page }) => {
  test.setTimeout(300_000);
  const short = `j${Date.now().toString(36).slice(-5)}`;
  await login(page, DEMO.instructor, { next: '/events/new', js: false });
  await page.locator('#field-name').fill(`No-JS deploy ${short}`);
  await page.locator('#field-short_name').fill(short);
  await page.locator('#field-environment_id').selectOption({ label: 'Demo lab' });
  await page.locator('#field-starts_at').fill('2031-03-01T09:00');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page).toHaveURL(/\/events\/\d+\?ok=created$/);
  const eventPath = new URL(page.url()).pathname;
  await page.locator('#field-usernames').fill(DEMO.student.username);
  await page.getByRole('button', { name: 'Add', exact: true }).first().click();
  await expect(page.getByTestId('participants')).toContainText(DEMO.student.username);

  await page.getByTestId('deploy-now').click();
  await expect(page).toHaveURL(new RegExp(`${eventPath}\\?ok=queued$`));
  await refreshUntil(page, 'running');

  // The student powers one VM off (confirmed) and on again from the home page.
  await page.context().clearCookies();
  await login(page, DEMO.student, { js: false });
  const section = page.getByTestId('my-vms').locator('section', { hasText: `No-JS deploy ${short}` });
  const vm = section.locator('li').first();
  await expect(section.locator('li')).toHaveCount(3); // one per template of the Demo lab
  await vm.getByTestId('confirm-stop').check();
  await vm.getByTestId('vm-stop').click();
  await expect(page).toHaveURL(/\/\?ok=done$/);
  await expect(section.locator('li').first()).toContainText('stopped');
  await section.locator('li').first().getByTestId('vm-start').click();
  await expect(page).toHaveURL(/\/\?ok=done$/);
  await expect(section.locator('li').first()).toContainText('running');

  // The instructor ends the event.
  await page.context().clearCookies();
  await login(page, DEMO.instructor, { next: eventPath, js: false });
  await page.getByTestId('confirm-end').check();
  await page.getByTestId('end-now').click();
  await expect(page).toHaveURL(new RegExp(`${eventPath}\\?ok=queued$`));
  await refreshUntil(page, 'finished');
  await expect(page.getByTestId('vm-grid-empty')).toBeVisible();
});
