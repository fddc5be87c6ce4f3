// Tags and the catalogue (issue 5), JavaScript on: an administrator creates a
// vendor and an operating system, links the operating system to a template,
// tags the template and filters the template list by the tag; deleting the
// vendor while its operating system exists is refused with a message naming it.
const { test, expect, DEMO, uniqueName, login, navTo } = require('./helpers');

test('an administrator builds the catalogue, links and tags a template, and cannot delete a vendor in use', async ({ page }) => {
  const vendor = uniqueName('vendor');
  const os = uniqueName('os');
  const template = uniqueName('tpl');
  const course = uniqueName('c');

  await login(page, DEMO.admin, { next: '/' });
  await navTo(page, 'Catalogue', '/admin/catalogue/vendors');
  await page.locator('#field-name').fill(vendor);
  await page.locator('#field-description').fill('Maker of things');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Created.');
  await expect(page.getByTestId('catalogue').locator('tbody tr', { hasText: vendor })).toBeVisible();

  // The same name in other letters is refused with a clear error.
  await page.locator('#field-name').fill(vendor.toUpperCase());
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('alert')).toContainText('Name is already in use');

  await page.getByRole('link', { name: 'Operating systems', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/admin/catalogue/operating-systems');
  await page.locator('#field-name').fill(os);
  await page.locator('#field-vendor_id').selectOption({ label: vendor });
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Created.');
  await expect(page.getByTestId('catalogue').locator('tbody tr', { hasText: os })).toContainText(vendor);

  // A template with the operating system and a tag.
  await navTo(page, 'Templates', '/templates');
  await page.getByRole('link', { name: 'New template' }).click();
  await page.waitForURL(/\/templates\/new$/);
  await page.locator('#field-name').fill(template);
  await page.locator('#field-proxmox_vmid').fill('9002');
  await page.locator('#field-node').fill('pve1');
  await page.locator('#field-cores').fill('1');
  await page.locator('#field-memory_mib').fill('1024');
  await page.locator('#field-disk_gib').fill('8');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/templates' && url.searchParams.get('ok') === 'created');
  await page.locator('tbody tr', { hasText: template }).getByRole('link', { name: template }).click();
  await page.waitForURL(/\/templates\/\d+$/);

  const catalogue = page.getByTestId('catalogue-section');
  await catalogue.locator('#field-operating_system_id').selectOption({ label: os });
  await catalogue.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(catalogue.locator('#field-operating_system_id')).toHaveValue(/\d+/);

  const tags = page.getByTestId('tags-section');
  await tags.locator('#tag-name').fill('course');
  await tags.locator('#tag-value').fill(course);
  await tags.getByRole('button', { name: 'Add tag' }).click();
  await expect(tags.getByText(`course=${course}`)).toBeVisible();

  // The template list filtered by the tag shows exactly this template.
  await navTo(page, 'Templates', '/templates');
  await page.locator('#f-tag').fill(`course=${course}`);
  await page.getByRole('button', { name: 'Filter', exact: true }).click();
  await page.waitForURL((url) => url.searchParams.get('tag') === `course=${course}`);
  const rows = page.locator('tbody tr');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(template);
  await expect(rows.first().getByTestId('tags')).toContainText(`course=${course}`);

  // The vendor makes the operating system: deleting it is refused, naming it.
  await navTo(page, 'Catalogue', '/admin/catalogue/vendors');
  await page.getByRole('link', { name: vendor, exact: true }).click();
  await page.waitForURL(/\/admin\/catalogue\/vendors\/\d+$/);
  await page.getByRole('link', { name: 'Delete', exact: true }).click();
  await page.waitForURL(/\/delete$/);
  await page.getByRole('button', { name: 'Yes, delete' }).click();
  await expect(page.getByRole('alert')).toContainText(`operating systems (${os})`);
  await navTo(page, 'Catalogue', '/admin/catalogue/vendors');
  await expect(page.getByTestId('catalogue').locator('tbody tr', { hasText: vendor })).toBeVisible();
});
