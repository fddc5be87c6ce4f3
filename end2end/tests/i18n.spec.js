// English and German UI (texts from app/src/i18n.rs), JavaScript on.
const {
  test, expect, login, mainNav, currentUser, createUserAsAdmin, signedInPage, uniqueName,
} = require('./helpers');

/**
 * Picks a language on /profile and saves; waits until the page has reloaded
 * the account (it re-renders the form, so a change made earlier would be lost).
 */
async function saveLanguage(page, code, saveLabel) {
  await page.locator('#field-language').selectOption(code);
  const reloaded = page.waitForResponse((r) => new URL(r.url()).pathname.startsWith('/api/own_account'));
  // The account form; the time zone section has a Save button of its own.
  const form = page.locator('form', { has: page.locator('#field-language') });
  await form.getByRole('button', { name: saveLabel, exact: true }).click();
  await page.waitForURL(/\/profile\?ok=saved$/);
  await reloaded;
}

/** Follows the site title in the header (the same in every language). */
async function goHome(page) {
  await page.locator('header a[href="/"]').first().click();
  await page.waitForURL((url) => url.pathname === '/');
}

test('a user switches to German on the profile page and back', async ({ page, browser, baseURL }) => {
  const user = await createUserAsAdmin(browser, baseURL, { prefix: 'i18n' });
  await login(page, user, { next: '/profile' });
  await expect(mainNav(page).getByRole('link')).toHaveText(['Dashboard', 'Events', 'VMs', 'Activities']);
  await expect(page.locator('#field-language')).toHaveValue('en');

  await saveLanguage(page, 'de', 'Save');
  await expect(page.locator('#field-language')).toHaveValue('de');
  // The next navigation shows the whole frame in German.
  await goHome(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Willkommen, ${user.name}`);
  const nav = mainNav(page, 'Hauptnavigation');
  await expect(nav.getByRole('link')).toHaveText(['Übersicht', 'Veranstaltungen', 'VMs', 'Aktivitäten']);
  await expect(page.getByRole('button', { name: 'Abmelden' })).toBeVisible();
  await currentUser(page).click();
  await page.waitForURL((url) => url.pathname === '/profile');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mein Konto');
  await expect(page.locator('form', { has: page.locator('#field-language') }).getByRole('button', { name: 'Speichern', exact: true })).toBeVisible();

  // Stored: another session of the same user starts in German.
  const other = await signedInPage(browser, baseURL, user, '/');
  try {
    await expect(mainNav(other, 'Hauptnavigation').getByRole('link')).toHaveText(['Übersicht', 'Veranstaltungen', 'VMs', 'Aktivitäten']);
  } finally {
    await other.context().close();
  }

  // And back to English.
  await saveLanguage(page, 'en', 'Speichern');
  await goHome(page);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Welcome, ${user.name}`);
  await expect(mainNav(page).getByRole('link')).toHaveText(['Dashboard', 'Events', 'VMs', 'Activities']);
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
});

// The page follows an in-place language change.
test('switching to German updates the profile page in place', async ({ page, browser, baseURL }) => {
  const user = await createUserAsAdmin(browser, baseURL, { prefix: 'i18n' });
  await login(page, user, { next: '/profile' });
  await saveLanguage(page, 'de', 'Save');
  await expect(page.getByRole('status')).toHaveText('Gespeichert.');
  await expect(mainNav(page, 'Hauptnavigation').getByRole('link', { name: 'Übersicht' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Abmelden' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Mein Konto');
});

test('visitors get the login page in their browser language', async ({ browser, baseURL }) => {
  const context = await browser.newContext({ baseURL, locale: 'de-DE' });
  try {
    const page = await context.newPage();
    await page.goto('/login');
    await expect(page.getByRole('button', { name: 'Anmelden', exact: true })).toBeVisible();
    await expect(page.locator('label[for="username"]')).toHaveText('Benutzername');
    await expect(page.getByRole('button', { name: 'Passwort anzeigen' })).toBeVisible();
    await page.locator('#username').fill(uniqueName('nobody'));
    await page.locator('#password').fill('Not-The-Password-2');
    await page.getByRole('button', { name: 'Anmelden', exact: true }).click();
    await expect(page.getByRole('alert')).toHaveText('Benutzername oder Passwort ist falsch.');
  } finally {
    await context.close();
  }
});
