// Single sign-on through a real OpenID provider (npm oidc-provider, started by
// playwright.config.js): the browser goes to the provider, signs in there, comes
// back signed in with the role the rules give, and signing out ends the session at
// the provider too (RP-initiated logout).
const { test, expect } = require('@playwright/test');
const { DEMO, login, uniqueName } = require('./helpers');

test('a person signs in at the institution\'s provider and out again', async ({ page }) => {
  // A new username each run: the account is created at the first sign-in.
  const username = uniqueName('sso');
  await page.goto('/login?next=%2Fprofile');
  await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();

  // The provider's own pages (its development login and consent screens).
  await expect(page).toHaveURL(/127\.0\.0\.1:\d+\/interaction\//);
  await page.locator('input[name="login"]').fill(username);
  await page.locator('input[name="password"]').fill('any password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();

  // Back in OpenVLE, on the page asked for, as the new single sign-on account.
  await expect(page).toHaveURL(/\/profile$/);
  const expectedName = `${username[0].toUpperCase()}${username.slice(1)} Example`;
  await expect(page.getByRole('banner')).toContainText(expectedName);
  await expect(page.locator('input[name="email"]')).toHaveValue(`${username}@example.org`);

  // Signing out goes through the provider, which asks, then sends us back.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('button', { name: 'Yes, sign me out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('button', { name: 'Sign in', exact: true })).toBeVisible();
  await page.goto('/profile');
  await expect(page).toHaveURL(/\/login/);
});

test('a sign-in the person cancels at the provider ends on the login page with a reason', async ({ page }) => {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Sign in with Example SSO' }).click();
  await expect(page).toHaveURL(/\/interaction\//);
  // The provider's "Cancel" link sends the browser back with error=access_denied.
  await page.getByRole('link', { name: '[ Cancel ]' }).click();
  await expect(page).toHaveURL(/\/login\?oidc_error=/);
  await expect(page.getByRole('alert')).toBeVisible();
});

test('an administrator checks the provider from the sign-in page', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/admin/sign-in' });
  await page.waitForURL(/\/admin\/sign-in$/);
  const sso = page.getByTestId('oidc');
  await expect(sso).toContainText('OIDC_ISSUER');
  await expect(sso).toContainText('(set)');
  await expect(sso).not.toContainText('test-secret');
  await expect(sso.getByTestId('role-rules')).toContainText('teachers → instructor');
  await expect(page.getByTestId('ldap')).toContainText('Not configured.');
  await sso.getByRole('button', { name: 'Test: fetch discovery and signing keys' }).click();
  await expect(page.getByTestId('oidc-result')).toContainText('The provider answered and its keys were loaded.');
  await expect(page).toHaveURL(/oidc_test=1/);
});
