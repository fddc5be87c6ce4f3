// Signing in and out with JavaScript on (the WASM bundle hydrates the pages).
const { DEMO, login, currentUser, mainNav, test, expect } = require('./helpers');

// What the main navigation shows each demo role (app/src/components/layout.rs).
// The pages that manage the site come last, in the "Administration" menu.
const NAV = {
  admin: {
    visible: ['Dashboard', 'Events', 'VMs', 'Environments', 'Templates', 'Activities', 'Catalogue', 'Groups',
      'Users', 'Roles', 'Terms of use', 'Tasks', 'Settings', 'E-mail', 'Cluster'],
    hidden: [],
  },
  instructor: {
    visible: ['Dashboard', 'Events', 'VMs', 'Environments', 'Templates', 'Activities', 'Catalogue', 'Groups', 'Users',
      'Templates in the cluster'],
    hidden: ['Roles', 'Terms of use', 'Tasks', 'Settings', 'E-mail', 'Cluster'],
  },
  student: {
    visible: ['Dashboard', 'Events', 'VMs', 'Activities'],
    hidden: ['Environments', 'Templates', 'Catalogue', 'Groups', 'Users', 'Roles', 'Terms of use', 'Tasks', 'Settings', 'E-mail', 'Cluster',
      'Templates in the cluster'],
  },
};

for (const key of ['admin', 'instructor', 'student']) {
  test(`${key} signs in and sees own name, roles and navigation`, async ({ page }) => {
    const account = DEMO[key];
    await login(page, account);
    await expect(page).toHaveURL(/\/$/);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Welcome, ${account.name}`);
    await expect(currentUser(page)).toHaveText(account.name);
    await expect(currentUser(page)).toHaveAttribute('href', '/profile');
    await expect(page.getByTestId('my-roles')).toContainText(account.role);
    const nav = mainNav(page);
    const administration = nav.locator('summary');
    await expect(administration).toHaveCount(key === 'student' ? 0 : 1);
    if (key !== 'student') {
      await administration.click();
    }
    await expect(nav.getByRole('link')).toHaveText(NAV[key].visible);
    for (const hidden of NAV[key].hidden) {
      await expect(nav.getByRole('link', { name: hidden, exact: true })).toHaveCount(0);
    }
    await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
  });
}

test('a wrong password shows an error and stays on the login page', async ({ page }) => {
  await page.goto('/login');
  await expect(page.getByRole('button', { name: 'Show password' })).toBeVisible();
  await page.locator('#username').fill(DEMO.student.username);
  await page.locator('#password').fill('Not-The-Password-1');
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password.');
  await expect(page).toHaveURL(/\/login(\?.*)?$/);
  await expect(currentUser(page)).toHaveCount(0);
  // Still signed out: a protected page sends us back to the login form.
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?next=%2F$/);
});

test('signing out returns to the login page with a notice', async ({ page }) => {
  await login(page, DEMO.instructor);
  await expect(currentUser(page)).toHaveText(DEMO.instructor.name);
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login\?ok=signed_out$/);
  await expect(page.getByRole('status')).toHaveText('You are signed out.');
  await expect(page.locator('#username')).toBeVisible();
  // The session is really gone, not just the page.
  await page.goto('/profile');
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile$/);
  await expect(currentUser(page)).toHaveCount(0);
});

test('a protected page redirects to login and back after signing in', async ({ page }) => {
  const response = await page.goto('/admin/users?q=adm');
  await expect(page).toHaveURL(/\/login\?next=%2Fadmin%2Fusers%3Fq%3Dadm$/);
  expect(response.ok()).toBeTruthy();
  await expect(page.locator('input[name="next"]')).toHaveValue('/admin/users?q=adm');
  await expect(page.getByRole('button', { name: 'Show password' })).toBeVisible();
  await page.locator('#username').fill(DEMO.admin.username);
  await page.locator('#password').fill(DEMO.admin.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(/\/admin\/users\?q=adm$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Users');
  await expect(page.locator('#q')).toHaveValue('adm');
  await expect(page.getByRole('link', { name: 'admin', exact: true })).toBeVisible();
});

test('a signed-in visitor of /login is sent on to the next page', async ({ page }) => {
  await login(page, DEMO.student);
  await page.goto('/login?next=%2F%3Ffrom%3Dlogin');
  await expect(page).toHaveURL(/\/\?from=login$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Welcome, ${DEMO.student.name}`);
  await expect(page.locator('#username')).toHaveCount(0);
});

test('the login page does not redirect to other sites', async ({ page }) => {
  await login(page, DEMO.student, { next: 'https://evil.example/' });
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/$/);
  await expect(currentUser(page)).toHaveText(DEMO.student.name);
});

test('the header is one row on a laptop and folds behind Menu on a phone', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await login(page, DEMO.admin);
  const header = page.locator('header');
  const title = header.getByRole('link', { name: 'OpenVLE', exact: true });
  await expect(currentUser(page)).toBeVisible();
  // One row: the title, the navigation and the signed-in person share a line.
  const rowHeight = (await title.boundingBox()).height;
  expect((await header.boundingBox()).height).toBeLessThan(rowHeight * 3);
  await expect(page.getByTestId('main-menu-toggle')).toBeHidden();

  await page.setViewportSize({ width: 390, height: 800 });
  const nav = mainNav(page);
  await expect(nav).toBeHidden();
  await page.getByTestId('main-menu-toggle').click();
  await expect(nav).toBeVisible();
  // Nothing sticks out sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await nav.locator('summary').click();
  await nav.getByRole('link', { name: 'Settings', exact: true }).click();
  await page.waitForURL((url) => url.pathname === '/admin/settings');
  // Gone where they chose: the menu folds again.
  await expect(nav).toBeHidden();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
});
