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

/** The account form (the time zone has a form of its own on the same page). */
function profileForm(page) {
  return page.locator('form', { has: page.locator('#field-name') });
}

test('saving the profile happens in place, without a page load', async ({ page, browser, baseURL }) => {
  const user = await profileOfFreshUser(page, browser, baseURL);
  // Anything stored on `window` survives only if the document is not reloaded.
  await page.evaluate(() => { window.__e2eSameDocument = 'yes'; });
  let documentLoads = 0;
  page.on('load', () => { documentLoads += 1; });

  const newName = `Renamed ${user.username}`;
  await page.locator('#field-name').fill(newName);
  await profileForm(page).getByRole('button', { name: 'Save', exact: true }).click();
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

// The header follows an in-place save (the shell reloads on every URL change).
test('saving the profile updates the header name in place', async ({ page, browser, baseURL }) => {
  const user = await profileOfFreshUser(page, browser, baseURL);
  const newName = `Renamed ${user.username}`;
  await page.locator('#field-name').fill(newName);
  await profileForm(page).getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(currentUser(page)).toHaveText(newName);
});

// Regression: signed-in pages once created their data twice on the server and
// the browser's hydration then panicked; every page must load and hydrate cleanly.
test('full page loads of signed-in pages hydrate without errors', async ({ page }) => {
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
