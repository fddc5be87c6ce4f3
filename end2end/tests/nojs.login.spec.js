// Runs in the `no-js` project only (javaScriptEnabled: false): every form is a
// plain <form method=post>, answered with a redirect; errors come back through
// the redirect and are shown in role=alert.
const { test, expect } = require('@playwright/test');
const { DEMO, STRONG_PASSWORD, uniqueName, login, currentUser } = require('./helpers');

test.beforeEach(async ({}, testInfo) => {
  expect(testInfo.project.use.javaScriptEnabled, 'this file belongs to the no-js project').toBe(false);
});

test('scripts do not run: no "Show password" toggle', async ({ page }) => {
  await page.goto('/login');
  await expect(page.locator('#password')).toHaveAttribute('type', 'password');
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  // Give a (wrongly) running bundle time to hydrate before checking.
  await page.waitForTimeout(1000);
  await expect(page.getByRole('button', { name: 'Show password' })).toHaveCount(0);
});

test('signing in and out works with plain form posts', async ({ page }) => {
  await login(page, DEMO.student, { next: '/profile', js: false });
  await expect(page).toHaveURL(/\/profile$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('My account');
  await expect(currentUser(page)).toHaveText(DEMO.student.name);
  await expect(page.getByRole('button', { name: 'Show password' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?ok=signed_out$/);
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
});

test('a wrong password shows the error without JavaScript', async ({ page }) => {
  await page.goto('/login');
  await page.locator('#username').fill(DEMO.instructor.username);
  await page.locator('#password').fill('Not-The-Password-3');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  await expect(page).toHaveURL(/\/login/);
  await expect(currentUser(page)).toHaveCount(0);
  // The form is still there for another try.
  await expect(page.locator('#username')).toBeVisible();
});

test('an admin creates a user with the plain form; a duplicate is refused', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/admin/users/new', js: false });
  await expect(page).toHaveURL(/\/admin\/users\/new$/);
  const username = uniqueName('nojs');
  const fill = async (name, email) => {
    await page.locator('#field-username').fill(username);
    await page.locator('#field-name').fill(name);
    await page.locator('#field-email').fill(email);
    await page.locator('#field-language').selectOption('en');
    await page.locator('#field-password').fill(STRONG_PASSWORD);
  };
  await fill(`No Script ${username}`, `${username}@example.org`);
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/users\/\d+\?ok=created$/);
  await expect(page.getByRole('status')).toHaveText('Created.');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`No Script ${username} (${username})`);

  // The new account can sign in.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await login(page, { username, password: STRONG_PASSWORD }, { js: false });
  await expect(currentUser(page)).toHaveText(`No Script ${username}`);
  await page.getByRole('button', { name: 'Sign out' }).click();

  // Same username again: the error comes back through the redirect.
  await login(page, DEMO.admin, { next: '/admin/users/new', js: false });
  await fill('Second', `second-${username}@example.org`);
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Username is already in use.');
  await expect(page).toHaveURL(/\/admin\/users\/new/);
});

test('the user search works as a plain GET form', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/admin/users', js: false });
  await page.locator('#q').fill('instructor');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\/admin\/users\?q=instructor/);
  await expect(page.locator('tbody tr')).toHaveCount(1);
  await expect(page.locator('tbody tr').first()).toContainText(DEMO.instructor.name);
});
