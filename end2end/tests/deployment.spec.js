// Issue 5, acceptance line 12, JavaScript on, against the demo's simulator:
// an administrator creates a template and an environment; an instructor
// creates an event with three students from a CSV roster and deploys it, and
// sees every VM running with an IP; a student sees exactly their own VM and
// reboots it; the instructor ends the event, and the simulator holds no VM
// of it afterwards (read from the simulator's state file, which the demo
// keeps in its data directory and saves every two seconds).
const fs = require('node:fs');
const path = require('node:path');
const { test, expect, DEMO, uniqueName, navTo, signedInPage } = require('./helpers');

const IP = /\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}/;

/** The simulator's VM names, as its state file has them. */
function simulatorVmNames() {
  const dir = process.env.OPENVLE_E2E_DATA_DIR;
  expect(dir, 'playwright.config.js passes the demo data directory').toBeTruthy();
  const file = path.join(dir, 'proxmox-simulator.json');
  if (!fs.existsSync(file)) return [];
  return [...fs.readFileSync(file, 'utf8').matchAll(/"name":\s*"([^"]+)"/g)].map((m) => m[1]);
}

test('an event is deployed, used by a student and ended without leftovers', async ({ browser, baseURL }) => {
  // Realistic simulator timings: clones, boots and the guest agent take seconds.
  test.setTimeout(300_000);
  const short = `d${Date.now().toString(36).slice(-5)}`;

  // The administrator: a template of the simulator's Debian template, and an environment with it.
  const tplName = uniqueName('deb');
  const admin = await signedInPage(browser, baseURL, DEMO.admin, '/templates/new');
  await admin.locator('#field-name').fill(tplName);
  await admin.locator('#field-operating_system').fill('Debian 12');
  await admin.locator('#field-proxmox_vmid').fill('9000');
  await admin.locator('#field-node').fill('pve1');
  await admin.locator('#field-cores').fill('1');
  await admin.locator('#field-memory_mib').fill('1024');
  await admin.locator('#field-disk_gib').fill('8');
  await admin.getByRole('button', { name: 'Create', exact: true }).click();
  await admin.waitForURL((url) => url.pathname === '/templates' && url.searchParams.get('ok') === 'created');
  const envName = uniqueName('env');
  await navTo(admin, 'Environments', '/environments');
  await admin.locator('#field-name').fill(envName);
  await admin.getByLabel(tplName, { exact: true }).fill('1');
  await admin.getByRole('button', { name: 'Create', exact: true }).click();
  await admin.waitForURL(/\/environments\/\d+\?ok=created$/);
  await admin.context().close();

  // The instructor: an event, three students from CSV (the demo student among them), deploy.
  const instructor = await signedInPage(browser, baseURL, DEMO.instructor, '/events/new');
  const eventName = `Deploy ${short}`;
  await instructor.locator('#field-name').fill(eventName);
  await instructor.locator('#field-short_name').fill(short);
  await instructor.locator('#field-environment_id').selectOption({ label: envName });
  await instructor.locator('#field-starts_at').fill('2030-02-01T09:00');
  await instructor.getByRole('button', { name: 'Create', exact: true }).click();
  await instructor.waitForURL(/\/events\/\d+\?ok=created$/);
  const eventPath = new URL(instructor.url()).pathname;
  const others = [uniqueName('stu'), uniqueName('stu')];
  const csv = [
    'username,name,email,role',
    `${DEMO.student.username},${DEMO.student.name},student@demo.openvle.invalid,student`,
    ...others.map((s, i) => `${s},Student ${i + 2},${s}@example.org,student`),
  ].join('\n');
  await instructor.getByRole('link', { name: 'Import a roster (CSV)' }).click();
  await instructor.waitForURL(/\/roster$/);
  await instructor.locator('#roster-csv').fill(csv);
  await instructor.getByRole('button', { name: 'Check' }).click();
  await expect(instructor.getByTestId('roster-rows').locator('tr')).toHaveCount(3);
  await instructor.getByRole('button', { name: 'Import', exact: true }).click();
  await instructor.waitForURL((url) => url.pathname === eventPath && url.searchParams.get('ok') === 'imported');

  await expect(instructor.getByRole('heading', { name: 'Add existing users' })).toBeVisible();
  await instructor.getByTestId('deploy-now').click();
  await expect(instructor.getByTestId('flash')).toContainText('Queued');
  // The page follows the deployment live (server-sent events), no reload.
  await expect(instructor.getByTestId('event-status')).toHaveText('running', { timeout: 180_000 });
  // "Queued" was true while the deployment waited; now the status says how it ended.
  await expect(instructor.getByTestId('flash')).toHaveCount(0);
  const grid = instructor.getByTestId('vm-grid');
  const vms = grid.locator('li');
  await expect(vms).toHaveCount(4); // three students and the instructor
  for (let i = 0; i < 4; i += 1) {
    await expect(vms.nth(i)).toContainText('running');
    await expect(vms.nth(i)).toContainText(IP);
  }
  for (const name of [DEMO.student.username, ...others, DEMO.instructor.username]) {
    await expect(grid).toContainText(name);
  }
  await expect.poll(() => simulatorVmNames().filter((n) => n.startsWith(`${short}-`)).length, { timeout: 10_000 }).toBe(4);

  // The student: exactly their own VM of the event; a reboot.
  const student = await signedInPage(browser, baseURL, DEMO.student, '/');
  const section = student.getByTestId('my-vms').locator('section', { hasText: eventName });
  const mine = section.locator('li');
  await expect(mine).toHaveCount(1);
  await expect(mine).toContainText(`${short}-student-`);
  await expect(mine).toContainText(IP);
  await mine.getByTestId('vm-reboot').click();
  await expect(student.getByRole('status')).toHaveText('Done.', { timeout: 60_000 });
  await expect(section.locator('li')).toContainText('running');
  await student.context().close();

  // The instructor ends the event: confirmation first, then nothing is left.
  await instructor.getByTestId('confirm-end').check();
  await instructor.getByTestId('end-now').click();
  await expect(instructor.getByTestId('event-status')).toHaveText('finished', { timeout: 120_000 });
  await expect(instructor.getByTestId('vm-grid-empty')).toHaveText('The event is over: its VMs have been removed.');
  // A finished event takes no new participants (it has no VMs to give them).
  await instructor.reload();
  await expect(instructor.getByTestId('event-status')).toHaveText('finished');
  await expect(instructor.getByRole('heading', { name: 'Add existing users' })).toHaveCount(0);
  await expect.poll(() => simulatorVmNames().filter((n) => n.startsWith(`${short}-`)), { timeout: 10_000 }).toEqual([]);
  await instructor.context().close();
});
