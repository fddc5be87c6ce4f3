// User administration and settings, as the demo administrator (JavaScript on).
const {
  test, expect, DEMO, STRONG_PASSWORD, uniqueName, login, navTo, signedInPage,
} = require('./helpers');

async function fillNewUser(page, { username, name, email, password, language = 'en' }) {
  await page.locator('#field-username').fill(username);
  await page.locator('#field-name').fill(name);
  await page.locator('#field-email').fill(email);
  await page.locator('#field-language').selectOption(language);
  await page.locator('#field-password').fill(password);
}

/** From any signed-in page: Users → New user. */
async function openNewUserForm(page) {
  await navTo(page, 'Users', '/admin/users');
  await page.getByRole('link', { name: 'New user' }).click();
  await page.waitForURL(/\/admin\/users\/new$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('New user');
}

/** From any signed-in page: Users, then search with the GET form. */
async function searchUsers(page, text) {
  await navTo(page, 'Users', '/admin/users');
  await page.locator('#q').fill(text);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL((url) => url.pathname === '/admin/users' && url.searchParams.get('q') === text);
}

test.describe('user administration', () => {
  test.beforeEach(async ({ page }) => {
    await login(page, DEMO.admin, { next: '/admin/users' });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Users');
  });

  test('create, find, lock and delete a user', async ({ page, browser, baseURL }) => {
    const username = uniqueName('adm');
    const name = `Admin Test ${username}`;

    // Create.
    await page.getByRole('link', { name: 'New user' }).click();
    await expect(page).toHaveURL(/\/admin\/users\/new$/);
    await expect(page.locator('#role-participant')).toBeChecked();
    await fillNewUser(page, { username, name, email: `${username}@example.org`, password: STRONG_PASSWORD });
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.waitForURL(/\/admin\/users\/\d+\?ok=created$/);
    await expect(page.getByRole('status')).toHaveText('Created.');
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${name} (${username})`);
    await expect(page.getByTestId('user-status')).toHaveText('active');
    const userPath = new URL(page.url()).pathname;

    // Find through the search form (a GET form: ?q=...).
    await searchUsers(page, username);
    const rows = page.locator('tbody tr');
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText(name);
    await expect(rows.first()).toContainText(`${username}@example.org`);
    await expect(rows.first()).toContainText('Participant');
    await expect(rows.first()).toContainText('active');
    await rows.first().getByRole('link', { name: username }).click();
    await page.waitForURL((url) => url.pathname === userPath);

    // Lock.
    await page.getByRole('button', { name: 'Lock account' }).click();
    await expect(page.getByRole('status')).toHaveText('Saved.');
    await expect(page.getByTestId('user-status')).toHaveText('inactive');
    await expect(page.getByRole('button', { name: 'Unlock account' })).toBeVisible();
    await searchUsers(page, username);
    await expect(rows).toHaveCount(1);
    await expect(rows.first()).toContainText('inactive');
    await rows.first().getByRole('link', { name: username }).click();
    await page.waitForURL((url) => url.pathname === userPath);

    // Delete, through the confirmation page.
    await page.getByRole('link', { name: 'Delete', exact: true }).click();
    await page.waitForURL((url) => url.pathname === `${userPath}/delete`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Delete user ${username}?`);
    await expect(page.getByText('The account and its sessions are removed. This cannot be undone.')).toBeVisible();
    await page.getByRole('button', { name: 'Yes, delete' }).click();
    await page.waitForURL(/\/admin\/users\?ok=deleted$/);
    await expect(page.getByRole('status')).toHaveText('Deleted.');

    // Gone: the search finds nothing, and its page says so.
    await searchUsers(page, username);
    await expect(page.getByText('No users match this search.')).toBeVisible();
    const other = await signedInPage(browser, baseURL, DEMO.admin, userPath);
    try {
      await expect(other.getByRole('alert')).toHaveText('Not found: it does not exist (any more), or it is not yours to see.');
    } finally {
      await other.context().close();
    }
  });

  test('a duplicate username is refused with a specific message', async ({ page }) => {
    const username = uniqueName('dup');
    await openNewUserForm(page);
    await fillNewUser(page, { username, name: 'First', email: `${username}@example.org`, password: STRONG_PASSWORD });
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Created.');

    await openNewUserForm(page);
    await fillNewUser(page, { username, name: 'Second', email: `other-${username}@example.org`, password: STRONG_PASSWORD });
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText('Username is already in use.');
    await expect(page).toHaveURL(/\/admin\/users\/new$/);
    // Only the first one exists.
    await searchUsers(page, username);
    await expect(page.locator('tbody tr')).toHaveCount(1);
    await expect(page.locator('tbody tr').first()).toContainText('First');
  });

  test('a weak password is refused with a specific message', async ({ page }) => {
    const username = uniqueName('weak');
    await openNewUserForm(page);
    await fillNewUser(page, { username, name: 'Weak', email: `${username}@example.org`, password: 'Password123' });
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText('Password is one of the most common passwords.');

    await page.locator('#field-password').fill('abcdefghijk');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText(
      'Password needs three of: lowercase, uppercase, digits, symbols (or 16+ characters).',
    );
    await expect(page).toHaveURL(/\/admin\/users\/new$/);
    await searchUsers(page, username);
    await expect(page.getByText('No users match this search.')).toBeVisible();
  });
});

// An instructor reads the administrator's account but is offered no change
// they would be refused (the server refuses them all the same).
test('an instructor sees the administrator\'s account without controls', async ({ page }) => {
  await login(page, DEMO.instructor, { next: '/admin/users' });
  await page.locator('#q').fill(DEMO.admin.username);
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.getByRole('link', { name: DEMO.admin.username, exact: true }).click();
  await page.waitForURL(/\/admin\/users\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`${DEMO.admin.name} (${DEMO.admin.username})`);
  await expect(page.getByTestId('account-read-only')).toBeVisible();
  await expect(page.getByTestId('user-roles')).toHaveText('Administrator');
  await expect(page.getByRole('link', { name: 'Delete' })).toHaveCount(0);
  for (const name of ['Save', 'Lock account', 'Set password']) {
    await expect(page.getByRole('button', { name, exact: true })).toHaveCount(0);
  }
  await expect(page.locator('#field-email')).toHaveCount(0);
});

test.describe('settings', () => {
  const TITLE_INPUT = '#setting-branding-title';
  const LIFETIME_INPUT = '#setting-auth-session_lifetime_minutes';

  /** The form of one setting (each setting has its own form and Save button). */
  function settingForm(page, inputSelector) {
    return page.locator('form').filter({ has: page.locator(inputSelector) });
  }

  /**
   * Fills one setting and saves it, then waits until the page has reloaded
   * the list of settings (it re-renders every form, so typing earlier would
   * be lost).
   */
  async function saveSetting(page, inputSelector, value) {
    const form = settingForm(page, inputSelector);
    await form.locator(inputSelector).fill(value);
    const relisted = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/list_settings'));
    await form.getByRole('button', { name: 'Save', exact: true }).click();
    await relisted;
  }

  /** The site title link at the start of the header. */
  function headerTitle(page) {
    return page.locator('header a[href="/"]').first();
  }

  test.beforeEach(async ({ page }) => {
    await login(page, DEMO.admin, { next: '/admin/settings' });
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('Settings');
  });

  test.afterEach(async ({ browser, baseURL }) => {
    // Put the title back whatever happened, so other tests see "OpenVLE".
    const page = await signedInPage(browser, baseURL, DEMO.admin, '/admin/settings');
    try {
      if ((await page.locator(TITLE_INPUT).inputValue()) !== 'OpenVLE') {
        await saveSetting(page, TITLE_INPUT, 'OpenVLE');
        await expect(page.getByRole('status')).toHaveText('Saved.');
      }
      await expect(page.locator(TITLE_INPUT)).toHaveValue('OpenVLE');
    } finally {
      await page.context().close();
    }
  });

  test('saving branding.title is stored and shown in the header', async ({ page, browser, baseURL }) => {
    await expect(headerTitle(page)).toHaveText('OpenVLE');
    const title = `E2E Academy ${uniqueName('t')}`;
    await saveSetting(page, TITLE_INPUT, title);
    await page.waitForURL(/\/admin\/settings\?ok=saved$/);
    await expect(page.getByRole('status')).toHaveText('Saved.');
    await expect(page.locator(TITLE_INPUT)).toHaveValue(title);
    // The next navigation reloads the page frame: the header shows the new title.
    await navTo(page, 'Dashboard', '/');
    await expect(headerTitle(page)).toHaveText(title);
    // Another session sees it too, server-rendered, in the header and the tab title.
    const other = await signedInPage(browser, baseURL, DEMO.student);
    try {
      await expect(headerTitle(other)).toHaveText(title);
      await expect(other).toHaveTitle(`Dashboard · ${title}`);
    } finally {
      await other.context().close();
    }
  });

// The header follows an in-place save of the title.
  test('saving branding.title updates the header in place', async ({ page }) => {
    const title = `E2E In Place ${uniqueName('t')}`;
    await saveSetting(page, TITLE_INPUT, title);
    await expect(page.getByRole('status')).toHaveText('Saved.');
    await expect(headerTitle(page)).toHaveText(title);
  });

  test('an invalid integer for the session lifetime gives a specific error', async ({ page }) => {
    const before = await page.locator(LIFETIME_INPUT).inputValue();
    expect(before).toBe('480');
    // The error shows in the setting's own form, and only there.
    const lifetime = settingForm(page, LIFETIME_INPUT);
    await saveSetting(page, LIFETIME_INPUT, 'soon');
    await expect(lifetime.getByRole('alert')).toHaveText('Value must be a whole number.');
    await expect(page.getByRole('alert')).toHaveCount(1);
    await saveSetting(page, LIFETIME_INPUT, '1');
    await expect(lifetime.getByRole('alert')).toHaveText('Value must be between 5 and 43200.');
    // Nothing was stored: leave and come back.
    await navTo(page, 'Dashboard', '/');
    await navTo(page, 'Settings', '/admin/settings');
    await expect(page.locator(LIFETIME_INPUT)).toHaveValue(before);
  });
});
