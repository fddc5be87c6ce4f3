// Runs in the `no-js` project only: "Test connection" is a plain GET form and
// saving the connection a plain POST answered with a redirect.
const { test, expect } = require('@playwright/test');
const { DEMO, login } = require('./helpers');

test.beforeEach(async ({}, testInfo) => {
  expect(testInfo.project.use.javaScriptEnabled, 'this file belongs to the no-js project').toBe(false);
});

test('the connection is tested and saved without JavaScript', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/admin/proxmox', js: false });
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page).toHaveURL(/\/admin\/proxmox\?test=1$/);
  await expect(page.getByTestId('test-result')).toContainText('Connected to Proxmox VE');

  await page.locator('#field-url').fill('ftp://pve');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('URL has the wrong format (expected https://host:8006).');

  await page.goto('/admin/proxmox');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page).toHaveURL(/\/admin\/proxmox\?ok=saved$/);
  await expect(page.getByRole('status')).toHaveText('Saved.');

  // A refused save from there shows its error, not the earlier "Saved.".
  await page.locator('#field-url').fill('ftp://pve');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('URL has the wrong format (expected https://host:8006).');
  await expect(page.getByTestId('flash')).toHaveCount(0);
});
