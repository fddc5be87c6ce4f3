// The Tasks page: an administrator starts a worker check and watches it run
// to the end on its page, live (server-sent events), without reloading.
const { test, expect, DEMO, login, navTo } = require('./helpers');

test('a worker check runs and its page follows it to the end', async ({ page }) => {
  await login(page, DEMO.admin);
  await navTo(page, 'Tasks', '/admin/tasks');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Tasks');
  await page.getByRole('button', { name: 'Check the workers' }).click();
  await page.waitForURL(/\/admin\/tasks\/\d+/);
  // Named from its job in the reader's language (the demo admin reads English).
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(/^#\d+ Worker check \(\d+ ms\)$/);
  const taskLink = `a[href="${new URL(page.url()).pathname}"]`;
  await expect(page.getByRole('status')).toContainText('Queued');
  // The worker in the demo process picks it up; the page updates by itself.
  const badge = page.locator('section [data-status]').first();
  await expect(badge).toHaveAttribute('data-status', 'success', { timeout: 15_000 });
  await expect(page.getByRole('progressbar').first()).toHaveAttribute('aria-valuenow', '100');
  const steps = page.locator('ol li');
  await expect(steps).toHaveCount(2);
  await expect(steps.locator('[data-status="success"]')).toHaveCount(2);

  // Back on the list, the filters narrow it down (other tests' tasks are there too).
  await page.getByRole('link', { name: 'Tasks', exact: true }).first().click();
  await page.waitForURL((url) => url.pathname === '/admin/tasks');
  await expect(page.locator(taskLink)).toHaveCount(1);
  await page.locator('#status').selectOption('failed');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=failed/);
  await expect(page.locator(taskLink)).toHaveCount(0);
  await page.locator('#status').selectOption('success');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/status=success/);
  await expect(page.locator(taskLink)).toHaveCount(1);
});
