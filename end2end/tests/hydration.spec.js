// Proof that the WASM bundle hydrates the server-rendered pages, and that
// hydrated forms are submitted in place (no full page load).
const {
  test, expect, DEMO, login, currentUser, navTo, createUserAsAdmin, waitForHydration, watchPageErrors,
} = require('./helpers');

test('the "Show password" toggle appears after hydration and reveals the password', async ({ page }) => {
  await page.goto('/login');
  const password = page.locator('#password');
  await expect(password).toHaveAttribute('type', 'password');
  // Only the browser renders it (an Effect sets the flag); the server never does.
  const toggle = page.getByRole('button', { name: 'Show password' });
  await expect(toggle).toBeVisible();
  await waitForHydration(page);
  await password.fill('secret-value');
  await toggle.click();
  await expect(password).toHaveAttribute('type', 'text');
  const hide = page.getByRole('button', { name: 'Hide password' });
  await expect(hide).toHaveAttribute('aria-pressed', 'true');
  await expect(password).toHaveValue('secret-value');
  await hide.click();
  await expect(password).toHaveAttribute('type', 'password');
  await expect(page.getByRole('button', { name: 'Show password' })).toHaveAttribute('aria-pressed', 'false');
});

test('the server-rendered login page has no toggle (it needs the bundle)', async ({ request }) => {
  const response = await request.get('/login');
  expect(response.status()).toBe(200);
  const html = await response.text();
  expect(html).toContain('id="password"');
  expect(html).not.toContain('Show password');
  expect(html).toContain('/pkg/openvle_bg.wasm');
});

/** Signs in a fresh user and goes to /profile by the header link; returns the user. */
async function profileOfFreshUser(page, browser, baseURL) {
  const user = await createUserAsAdmin(browser, baseURL, { prefix: 'hydr' });
  await login(page, user);
  await expect(currentUser(page)).toHaveText(user.name);
  await currentUser(page).click();
  await page.waitForURL((url) => url.pathname === '/profile');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('My account');
  return user;
}

test('saving the profile happens in place, without a page load', async ({ page, browser, baseURL }) => {
  const user = await profileOfFreshUser(page, browser, baseURL);
  // Anything stored on `window` survives only if the document is not reloaded.
  await page.evaluate(() => { window.__e2eSameDocument = 'yes'; });
  let documentLoads = 0;
  page.on('load', () => { documentLoads += 1; });

  const newName = `Renamed ${user.username}`;
  await page.locator('#field-name').fill(newName);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/\/profile\?ok=saved$/);
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.locator('#field-name')).toHaveValue(newName);
  expect(await page.evaluate(() => window.__e2eSameDocument)).toBe('yes');

  // The next (client-side) navigation shows the stored name everywhere.
  await navTo(page, 'Dashboard', '/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Welcome, ${newName}`);
  await expect(currentUser(page)).toHaveText(newName);
  expect(await page.evaluate(() => window.__e2eSameDocument)).toBe('yes');
  expect(documentLoads).toBe(0);
});

// BUG (app): after a hydrated in-place save on /profile the header keeps the
// old name until the next navigation. SignedInLayout
// (app/src/components/layout.rs) reloads `load_shell` only when
// `location.pathname` changes; update_own_profile redirects to the same
// path (/profile?ok=saved).
test.fixme('saving the profile updates the header name in place', async ({ page, browser, baseURL }) => {
  const user = await profileOfFreshUser(page, browser, baseURL);
  const newName = `Renamed ${user.username}`;
  await page.locator('#field-name').fill(newName);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(currentUser(page)).toHaveText(newName);
});

// BUG (app): a full page load (server render) of some signed-in pages often
// renders the page's resources twice; the extra copy runs without the request
// context and fails (server log: "server state missing ... no ServerState in
// context"), and its error is serialized under the resource id the browser
// reads first (e.g. __PENDING_RESOURCES=[0,2,4] with __RESOLVED_RESOURCES[2] =
// {"Err":{"error":"internal",...}} while the HTML shows the data). Hydration
// then panics (tachys hydration.rs:195/227 "entered unreachable code") and the
// app is dead for that document: e.g. after "Create" on /admin/users/new the
// URL changes to /admin/users/N?ok=created but the page still shows the form.
// Measured: /admin/users/new 6 of 10 loads, /admin/users/1 7/10,
// /admin/settings 4/10; /profile renders the extra resource too but did not
// panic; / and /login are fine. The other tests therefore load only /login
// (and / or the 404 page) and move on by clicking, as a person does.
test.fixme('full page loads of signed-in pages hydrate without errors', async ({ page }) => {
  test.setTimeout(120_000);
  await login(page, DEMO.admin);
  const errors = watchPageErrors(page);
  const failures = [];
  for (const path of ['/admin/users/new', '/admin/users/1', '/admin/settings']) {
    for (let i = 0; i < 8; i += 1) {
      errors.length = 0;
      await page.goto(path);
      await waitForHydration(page);
      if (errors.length) failures.push(`${path} (load ${i + 1}): ${errors.join('; ')}`);
    }
  }
  expect(failures).toEqual([]);
});
