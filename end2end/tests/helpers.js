// Shared steps for the OpenVLE browser tests. Texts come from app/src/i18n.rs.
//
// How the JavaScript tests move around: they load the login page, sign in,
// and from then on follow links and submit forms like a person does, so the
// hydrated app navigates on the client. Full page loads of signed-in pages are
// covered on their own in hydration.spec.js.
const base = require('@playwright/test');

const { expect } = base;

/** The accounts `openvle demo` seeds (server/src/demo.rs). */
const DEMO = {
  admin: { username: 'admin', password: 'Sunny-Meadow-42', name: 'Ada Admin', role: 'Administrator' },
  instructor: { username: 'instructor', password: 'Quiet-River-42', name: 'Ivan Instructor', role: 'Instructor' },
  student: { username: 'student', password: 'Bright-Forest-42', name: 'Stella Student', role: 'Participant' },
};

/** A strong password that passes the app's rules (see domain/src/validate.rs). */
const STRONG_PASSWORD = 'Tr1cky-Horse-e2e';

let counter = 0;
/** A username no other test (or earlier run) uses: lowercase, digits, '-'. */
function uniqueName(prefix) {
  counter += 1;
  const stamp = Date.now().toString(36);
  const rand = Math.random().toString(36).slice(2, 6);
  return `${prefix}-${stamp}${rand}${counter}`.toLowerCase();
}

/**
 * Marks `window.__openvleWasmReady` once the WASM bundle is instantiated.
 * Leptos calls `hydrate()` right after, in the same promise chain, so a
 * macrotask later the page is hydrated.
 */
async function trackHydration(page) {
  await page.addInitScript(() => {
    const mark = (p) => p.then((r) => { window.__openvleWasmReady = true; return r; });
    for (const name of ['instantiate', 'instantiateStreaming']) {
      const original = WebAssembly[name];
      if (typeof original === 'function') {
        WebAssembly[name] = function (...args) { return mark(original.apply(this, args)); };
      }
    }
  });
}

/** Waits until a page tracked with `trackHydration` is hydrated. */
async function waitForHydration(page) {
  await page.waitForFunction(() => window.__openvleWasmReady === true);
  // hydrate() runs in the promise chain after instantiation; let it finish.
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
}

/** Uncaught errors of a page (a Rust panic in the WASM bundle shows up here). */
function watchPageErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && message.text().includes('panicked at')) {
      errors.push(message.text().split('\n')[0]);
    }
  });
  return errors;
}

/**
 * `test` whose `page` tracks hydration and fails the test when the page had
 * an uncaught error, e.g. a panic while hydrating (JavaScript projects).
 */
const test = base.test.extend({
  page: async ({ page }, use, testInfo) => {
    await trackHydration(page);
    const errors = watchPageErrors(page);
    await use(page);
    if (testInfo.expectedStatus === 'passed') {
      expect(errors, 'uncaught errors in the page (WASM panics, hydration errors)').toEqual([]);
    }
  },
});

/** The header's "current user" link. */
function currentUser(page) {
  return page.getByTestId('current-user');
}

/** The main navigation of signed-in pages. */
function mainNav(page, label = 'Main navigation') {
  return page.getByRole('navigation', { name: label });
}

/** Follows a main navigation link (client-side in the hydrated app). */
async function navTo(page, linkName, path, navLabel) {
  const nav = mainNav(page, navLabel);
  await expect(nav).toBeVisible();
  const link = nav.getByRole('link', { name: linkName, exact: true });
  // Pages that manage the site sit in the "Administration" menu.
  if (!(await link.isVisible())) {
    await nav.locator('summary').click();
  }
  await link.click();
  await page.waitForURL((url) => url.pathname === path);
}

/**
 * Signs in through the login form and waits until the browser has left
 * /login. With JavaScript on, first waits for the "Show password" toggle
 * (hydration), so the form is submitted in place and the app then navigates
 * to `next` on the client.
 */
async function login(page, { username, password }, { next, js = true } = {}) {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : '/login');
  if (js) {
    await expect(page.getByRole('button', { name: 'Show password' })).toBeVisible();
  }
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL((url) => url.pathname !== '/login');
}

/**
 * A page in a browser context of its own, signed in as `account` and shown
 * `next`: for checking what is stored, seen by another session. The caller
 * closes `page.context()`.
 */
async function signedInPage(browser, baseURL, account, next = '/') {
  const context = await browser.newContext({ baseURL, locale: 'en-US' });
  const page = await context.newPage();
  await login(page, account, { next });
  await page.waitForURL((url) => url.pathname + url.search === next);
  return page;
}

/**
 * Creates a user through the admin UI in a browser context of its own, so
 * the calling test's page stays untouched. Returns { username, password, name, email, id }.
 */
async function createUserAsAdmin(browser, baseURL, { prefix = 'e2e', role = 'participant', language = 'en' } = {}) {
  const username = uniqueName(prefix);
  const user = { username, password: STRONG_PASSWORD, name: `E2E ${username}`, email: `${username}@example.org` };
  const page = await signedInPage(browser, baseURL, DEMO.admin, '/admin/users/new');
  try {
    await page.locator('#field-username').fill(user.username);
    await page.locator('#field-name').fill(user.name);
    await page.locator('#field-email').fill(user.email);
    await page.locator('#field-language').selectOption(language);
    await page.locator('#field-password').fill(user.password);
    await page.locator(`#role-${role}`).check();
    if (role !== 'participant') await page.locator('#role-participant').uncheck();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByRole('status')).toHaveText('Created.');
    const match = /\/admin\/users\/(\d+)/.exec(page.url());
    expect(match, `created user's page URL: ${page.url()}`).not.toBeNull();
    user.id = Number(match[1]);
    return user;
  } finally {
    await page.context().close();
  }
}

module.exports = {
  test,
  expect,
  DEMO,
  STRONG_PASSWORD,
  uniqueName,
  trackHydration,
  waitForHydration,
  watchPageErrors,
  currentUser,
  mainNav,
  navTo,
  login,
  signedInPage,
  createUserAsAdmin,
};
