// Issue 9, the built-in console, against the demo (its simulator runs a real
// Xvnc per VM console): a student clicks Connect on their running VM and the
// noVNC canvas shows pixels; a classmate's WebSocket to that console is refused
// before the upgrade and receives nothing; stopping the VM closes the console
// and the page says the VM is not running. Without JavaScript the page says the
// console needs it. A running VM comes from a deployed event, as in
// deployment.spec.js.
const {
  test, expect, DEMO, uniqueName, signedInPage, createUserAsAdmin, login, watchPageErrors, trackHydration, waitForHydration,
} = require('./helpers');

/** How many canvas pixels differ from the first one (0: blank). */
async function visiblePixels(page) {
  return page.evaluate(() => {
    const canvas = document.querySelector('#console-screen canvas');
    if (!canvas || canvas.width === 0 || canvas.height === 0) return 0;
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let differing = 0;
    for (let i = 4; i < data.length; i += 4) {
      if (data[i] !== data[0] || data[i + 1] !== data[1] || data[i + 2] !== data[2]) differing += 1;
    }
    return differing;
  });
}

test('a student connects to their running VM; classmates cannot; stopping the VM ends the console', async ({ browser, baseURL }) => {
  test.setTimeout(300_000);
  const short = `c${Date.now().toString(36).slice(-5)}`;

  // The administrator: a template, an environment, and a classmate account.
  const tplName = uniqueName('con');
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
  await admin.goto('/environments');
  await admin.locator('#field-name').fill(envName);
  await admin.getByLabel(tplName, { exact: true }).fill('1');
  await admin.getByRole('button', { name: 'Create', exact: true }).click();
  await admin.waitForURL(/\/environments\/\d+\?ok=created$/);
  await admin.context().close();
  const classmate = await createUserAsAdmin(browser, baseURL, { prefix: 'mate' });

  // The instructor: an event with the student and the classmate, deployed.
  const instructor = await signedInPage(browser, baseURL, DEMO.instructor, '/events/new');
  const eventName = `Console ${short}`;
  await instructor.locator('#field-name').fill(eventName);
  await instructor.locator('#field-short_name').fill(short);
  await instructor.locator('#field-environment_id').selectOption({ label: envName });
  await instructor.locator('#field-starts_at').fill('2030-02-01T09:00');
  await instructor.getByRole('button', { name: 'Create', exact: true }).click();
  await instructor.waitForURL(/\/events\/\d+\?ok=created$/);
  const csv = [
    'username,name,email,role',
    `${DEMO.student.username},${DEMO.student.name},student@demo.openvle.invalid,student`,
    `${classmate.username},${classmate.name},${classmate.email},student`,
  ].join('\n');
  await instructor.getByRole('link', { name: 'Import a roster (CSV)' }).click();
  await instructor.waitForURL(/\/roster$/);
  await instructor.locator('#roster-csv').fill(csv);
  await instructor.getByRole('button', { name: 'Check' }).click();
  await instructor.getByRole('button', { name: 'Import', exact: true }).click();
  await instructor.waitForURL((url) => url.searchParams.get('ok') === 'imported');
  await instructor.getByTestId('deploy-now').click();
  await expect(instructor.getByTestId('event-status')).toHaveText('running', { timeout: 180_000 });
  await instructor.context().close();

  // The student: Connect on My VMs leads to the console, which shows the VM's screen.
  const student = await signedInPage(browser, baseURL, DEMO.student, '/');
  const errors = watchPageErrors(student);
  const mine = student.getByTestId('my-vms').locator('section', { hasText: eventName }).locator('li');
  await expect(mine).toHaveCount(1);
  await mine.getByRole('link', { name: 'Connect' }).click();
  await student.waitForURL(/\/vms\/\d+\/console$/);
  const vmId = /\/vms\/(\d+)\/console$/.exec(student.url())[1];
  await expect(student.getByTestId('console-nojs')).toBeHidden();
  await expect(student.getByTestId('console-status')).toHaveText('Connected.', { timeout: 30_000 });
  await expect.poll(() => visiblePixels(student), { timeout: 15_000 }).toBeGreaterThan(1000);
  // The toolbar is reachable by keyboard.
  await student.getByTestId('console-cad').focus();
  await student.keyboard.press('Tab');
  await expect(student.getByTestId('console-fullscreen')).toBeFocused();

  // A console that cannot reach the VM's screen says so (it did not "drop"),
  // keeps trying by itself and connects once the screen answers. A second tab,
  // whose WebSockets go to a closed port (as good as a VNC server that does not
  // answer) until the test lets them through to the server.
  const second = await student.context().newPage();
  await second.addInitScript(() => {
    window.consoleUnreachable = true;
    const Native = window.WebSocket;
    // A constructor that returns the browser's own WebSocket: noVNC checks that
    // its prototype has WebSocket's methods.
    function Redirected(url, protocols) {
      return new Native(window.consoleUnreachable ? 'ws://127.0.0.1:9/' : url, protocols);
    }
    Redirected.prototype = Native.prototype;
    Object.assign(Redirected, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
    window.WebSocket = Redirected;
  });
  await second.goto(`/vms/${vmId}/console`);
  await expect(second.getByTestId('console-status'))
    .toHaveText(/^The VM's screen could not be reached\. Trying again in \d+ s \(attempt \d+\)/);
  await second.evaluate(() => { window.consoleUnreachable = false; });
  await expect(second.getByTestId('console-status')).toHaveText('Connected.', { timeout: 30_000 });
  await expect.poll(() => visiblePixels(second), { timeout: 15_000 }).toBeGreaterThan(1000);
  await second.close();

  // The classmate: the handshake is refused before the upgrade, and nothing arrives.
  const mate = await signedInPage(browser, baseURL, classmate, '/');
  const handshake = await mate.request.get(`/console/${vmId}/websocket`, {
    headers: {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      Origin: baseURL,
    },
  });
  // 403, the same answer as for a VM that does not exist: guessed ids reveal nothing.
  expect(handshake.status()).toBe(403);
  const seen = await mate.evaluate((id) => new Promise((resolve) => {
    const socket = new WebSocket(`ws://${window.location.host}/console/${id}/websocket`, ['binary']);
    let bytes = 0;
    socket.onmessage = (event) => { bytes += event.data.size || event.data.byteLength || 0; };
    socket.onclose = () => resolve({ opened: false, bytes });
    socket.onopen = () => { setTimeout(() => { socket.close(); resolve({ opened: true, bytes }); }, 1000); };
  }), vmId);
  expect(seen).toEqual({ opened: false, bytes: 0 });
  await mate.goto(`/vms/${vmId}/console`);
  await expect(mate.getByRole('alert')).toBeVisible();
  await expect(mate.getByTestId('console')).toHaveCount(0);
  await mate.context().close();

  // Powering the VM off (from its page, in another tab) closes the console.
  // A click during hydration can be lost, so the tab waits for it (the hydration
  // marker is set per page, hence trackHydration on the new tab).
  const tab = await student.context().newPage();
  await trackHydration(tab);
  await tab.goto(`/vms/${vmId}`);
  await waitForHydration(tab);
  await tab.getByTestId('confirm-stop').check();
  await tab.getByTestId('vm-stop').click();
  await expect(tab.getByRole('status')).toHaveText('Done.', { timeout: 60_000 });
  await expect(student.getByTestId('console-status')).toHaveText(/not running/, { timeout: 30_000 });
  await expect(student.getByTestId('console')).toHaveAttribute('data-state', 'not-running');
  expect(errors).toEqual([]);
  await student.context().close();

  // Without JavaScript the page says the console needs it, and links back.
  const context = await browser.newContext({ baseURL, locale: 'en-US', javaScriptEnabled: false });
  const plain = await context.newPage();
  await login(plain, DEMO.student, { js: false });
  await plain.goto(`/vms/${vmId}/console`);
  await expect(plain.getByTestId('console-nojs')).toContainText('The console needs JavaScript');
  await expect(plain.getByTestId('console-nojs').getByRole('link', { name: 'Back to the VM' })).toHaveAttribute('href', `/vms/${vmId}`);
  await context.close();
});
