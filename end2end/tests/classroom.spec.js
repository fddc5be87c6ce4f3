// The classroom (issue 5), JavaScript on: an administrator creates a VM
// template and an environment; an instructor creates an event and imports
// three students from a CSV roster (preview first, then confirm).
const { test, expect, DEMO, uniqueName, login, navTo } = require('./helpers');

/** A short name for an event: 4–8 of [a-z0-9_-], unique per run. */
function shortName() {
  return `e${Date.now().toString(36).slice(-4)}${Math.random().toString(36).slice(2, 4)}`;
}

test('an administrator creates a template and an environment', async ({ page }) => {
  const name = uniqueName('tpl');
  await login(page, DEMO.admin, { next: '/templates' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Templates');

  await page.getByRole('link', { name: 'New template' }).click();
  await page.waitForURL(/\/templates\/new$/);
  await page.locator('#field-name').fill(name);
  await page.locator('#field-description').fill('**Ubuntu** desktop for the course');
  await page.locator('#field-operating_system').fill('Ubuntu 24.04');
  await page.locator('#field-proxmox_vmid').fill('9001');
  await page.locator('#field-node').fill('pve1');
  await page.locator('#field-cores').fill('2');
  await page.locator('#field-memory_mib').fill('2048');
  await page.locator('#field-disk_gib').fill('20');
  await page.locator('#field-console').selectOption('builtin');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/templates' && url.searchParams.get('ok') === 'created');
  await expect(page.getByRole('status')).toHaveText('Created.');
  const row = page.locator('tbody tr', { hasText: name });
  await expect(row).toContainText('Built-in console');
  await expect(row).toContainText('9001 @ pve1');

  // How its VMs are reached: a connection template; the password is never shown back.
  await row.getByRole('link', { name }).click();
  await page.waitForURL(/\/templates\/\d+$/);
  const connections = page.getByTestId('connection-templates');
  await expect(connections).toContainText('No connection templates yet.');
  await connections.locator('#field-protocol').selectOption('rdp');
  await connections.locator('#field-conn_username').fill('student');
  await connections.locator('#field-conn_password').fill('Desk-top-Pass-1');
  await connections.getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByTestId('connection-template')).toContainText('RDP :3389 · student · password stored');
  await expect(page.locator('#field-conn_password')).toHaveValue('');
  await expect(page.locator('body')).not.toContainText('Desk-top-Pass-1');

  // An environment with two VMs of the new template per participant.
  const envName = uniqueName('env');
  await navTo(page, 'Environments', '/environments');
  await page.locator('#field-name').fill(envName);
  await page.getByLabel(name, { exact: true }).fill('2');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/\/environments\/\d+\?ok=created$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(envName);
  await expect(page.getByLabel(name, { exact: true })).toHaveValue('2');
  await navTo(page, 'Environments', '/environments');
  await expect(page.locator('tbody tr', { hasText: envName })).toContainText(`2 × ${name}`);
});

test('an instructor creates an event and imports three students from CSV', async ({ page }) => {
  const eventName = `Linux basics ${uniqueName('ev')}`;
  const short = shortName();
  await login(page, DEMO.instructor, { next: '/events' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Events');

  await page.getByRole('link', { name: 'New event' }).click();
  await page.waitForURL(/\/events\/new$/);
  await page.locator('#field-name').fill(eventName);
  await page.locator('#field-short_name').fill(short);
  // The demo seeds "Demo lab" from the simulator's templates.
  await page.locator('#field-environment_id').selectOption({ label: 'Demo lab' });
  await page.locator('#field-starts_at').fill('2030-01-15T09:00');
  await page.locator('#field-ends_at').fill('2030-01-14T09:00');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  // Inverted dates are refused with a specific message.
  await expect(page.getByRole('alert')).toContainText('Ends must be after the start.');
  await page.locator('#field-ends_at').fill('2030-01-15T17:00');
  await page.getByRole('button', { name: 'Create', exact: true }).click();
  await page.waitForURL(/\/events\/\d+\?ok=created$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(eventName);
  await expect(page.getByTestId('event-status')).toHaveText('planned');
  const eventPath = new URL(page.url()).pathname;

  // Roster: a bad line blocks the import and is named.
  const students = [uniqueName('stu'), uniqueName('stu'), uniqueName('stu')];
  await page.getByRole('link', { name: 'Import a roster (CSV)' }).click();
  await page.waitForURL(/\/events\/\d+\/roster$/);
  await page.locator('#roster-csv').fill(`username,name,email,role\n${students[0]},One,not-an-email,student\n`);
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(page.getByTestId('roster-errors')).toContainText('Line 2');
  await expect(page.getByRole('button', { name: 'Import', exact: true })).toHaveCount(0);

  // Preview of three good lines, then the import.
  const csv = ['username,name,email,role', ...students.map((s, i) => `${s},Student ${i + 1},${s}@example.org,student`)].join('\n');
  await page.locator('#roster-csv').fill(csv);
  await page.getByRole('button', { name: 'Check' }).click();
  const rows = page.getByTestId('roster-rows').locator('tr');
  await expect(rows).toHaveCount(3);
  // Checked by a POST: names and addresses stay out of the address bar and history.
  await expect(page).toHaveURL(/\/events\/\d+\/roster$/);
  for (const s of students) {
    await expect(page.getByTestId('roster-rows')).toContainText(s);
  }
  await expect(rows.first()).toContainText('new account');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.waitForURL((url) => url.pathname === eventPath && url.searchParams.get('ok') === 'imported');
  await expect(page.getByTestId('flash')).toHaveText('Imported.');
  const participants = page.getByTestId('participants');
  for (const s of students) {
    await expect(participants).toContainText(s);
  }
  await expect(participants.locator('tbody tr')).toHaveCount(4); // the instructor and three students
  await expect(page.getByTestId('vm-grid-empty')).toBeVisible();

  // A refused edit replaces "Imported." with its error; a saved one says so.
  const edit = page.locator('section', { has: page.getByRole('heading', { name: 'Edit event' }) });
  await edit.locator('#field-ends_at').fill('2030-01-14T09:00');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(edit.getByRole('alert')).toContainText('Ends must be after the start.');
  await expect(page.getByTestId('flash')).toHaveCount(0);
  await edit.locator('#field-ends_at').fill('2030-01-15T18:00');
  await edit.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByTestId('flash')).toHaveText('Saved.');
  await expect(page.getByRole('alert')).toHaveCount(0);
});
