// Unknown addresses: a real 404 status and a helpful page.
const { test, expect, DEMO, login } = require('./helpers');

test('an unknown URL answers 404 with the "Page not found" page', async ({ page }) => {
  const response = await page.goto('/no/such/page-e2e');
  expect(response.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await expect(page.getByText('There is nothing at this address.')).toBeVisible();
  await expect(page.getByText('404', { exact: true })).toBeVisible();
  const home = page.getByRole('link', { name: 'Back to the dashboard' });
  await expect(home).toHaveAttribute('href', '/');
});

test('a signed-in user also gets 404, and the link leads home', async ({ page }) => {
  await login(page, DEMO.student);
  const response = await page.goto('/admin/nothing-here');
  expect(response.status()).toBe(404);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Page not found');
  await page.getByRole('link', { name: 'Back to the dashboard' }).click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Welcome, ${DEMO.student.name}`);
});
