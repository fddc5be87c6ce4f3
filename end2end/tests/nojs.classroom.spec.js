// Runs in the `no-js` project only: creating an event and importing a roster
// are plain forms (the roster check a POST that comes back as the roster page
// showing it, the import a POST answered with a redirect), and the student's home lists the event.
const { test, expect } = require('@playwright/test');
const { DEMO, login, uniqueName } = require('./helpers');

test.beforeEach(async ({}, testInfo) => {
  expect(testInfo.project.use.javaScriptEnabled, 'this file belongs to the no-js project').toBe(false);
});

test('an event is created and a roster imported without JavaScript', async ({ page }) => {
  const short = `n${Date.now().toString(36).slice(-5)}`;
  await login(page, DEMO.instructor, { next: '/events/new', js: false });
  await page.locator('#field-name').fill(`No-JS event ${short}`);
  await page.locator('#field-short_name').fill(short);
  await page.locator('#field-environment_id').selectOption({ label: 'Demo lab' });
  await page.locator('#field-starts_at').fill('2031-02-01T09:00');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page).toHaveURL(/\/events\/\d+\?ok=created$/);
  const eventPath = new URL(page.url()).pathname;

  const newcomer = uniqueName('nojs');
  await page.goto(`${eventPath}/roster`);
  await page.locator('#roster-csv').fill(`${newcomer},Newcomer,${newcomer}@example.org,student\nstudent,Stella Student,student@demo.openvle.invalid,student`);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page).toHaveURL(/\/roster\?csv=/);
  await expect(page.getByTestId('roster-rows').locator('tr')).toHaveCount(2);
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await expect(page).toHaveURL(new RegExp(`${eventPath}\\?ok=imported$`));
  await expect(page.getByTestId('participants')).toContainText(newcomer);

  // The demo student now sees the event on their home page, not started yet.
  await page.context().clearCookies();
  await login(page, DEMO.student, { js: false });
  await expect(page.getByTestId('my-vms')).toContainText(`No-JS event ${short}`);
  await expect(page.getByTestId('my-vms')).toContainText('This event starts on 2031-02-01 09:00 UTC');
});
