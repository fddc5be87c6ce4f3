// The Proxmox VE cluster pages against the demo's simulator: nodes with
// accessible usage bars, the pool's templates, the connection settings with
// "Test connection", and saving the connection (its secret stays write-only).
const { test, expect, DEMO, login, navTo } = require('./helpers');

test('an administrator sees nodes, templates and tests the connection', async ({ page }) => {
  await login(page, DEMO.admin);
  await navTo(page, 'Cluster', '/admin/nodes');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Cluster');
  const pve1 = page.locator('tr[data-node="pve1"]');
  await expect(pve1).toContainText('online');
  await expect(pve1.getByRole('progressbar', { name: 'Memory' })).toHaveAttribute('aria-valuenow', /\d+/);
  await expect(pve1.getByTestId('template-count')).toHaveText('3');
  await expect(page.locator('tr[data-vmid="9000"]')).toContainText('debian-12-server');

  await page.getByRole('link', { name: 'Proxmox VE connection' }).click();
  await page.waitForURL((url) => url.pathname === '/admin/proxmox');
  await expect(page.getByTestId('connection-source')).toContainText('configured at start');
  await expect(page.locator('#field-secret')).toHaveValue('');
  await expect(page.getByTestId('secret-state')).toContainText('(set)');

  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('test-result')).toContainText('Connected to Proxmox VE');
  await expect(page.getByTestId('test-result').locator('tr[data-node="pve2"]')).toBeVisible();

  // Saved with an empty secret: the one in use is kept, and the saved connection wins.
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.getByTestId('connection-source')).toContainText('saved here');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('test-result')).toContainText('Connected to Proxmox VE');
});

test('a malformed token id is refused with a specific error', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/admin/proxmox' });
  await page.locator('#field-token_id').fill('openvle@pve');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('API token id has the wrong format (expected user@realm!token).');
});

test('an instructor sees the templates but not the nodes', async ({ page }) => {
  await login(page, DEMO.instructor);
  await navTo(page, 'Templates in the cluster', '/admin/nodes');
  await expect(page.locator('tr[data-vmid="9002"]')).toContainText('windows-11');
  await expect(page.getByRole('progressbar')).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Proxmox VE connection' })).toHaveCount(0);
});
