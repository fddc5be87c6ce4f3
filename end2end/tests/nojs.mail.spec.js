// E-mail administration without JavaScript (no-js project): templates are
// edited and previewed with plain form posts, "Send test mail to me" shows
// the answer (the demo has no SMTP_HOST: mails are written to files), a template's test send
// lands in the sent log, and "Forgot password?" answers without revealing
// whether an account exists. Delivery to a real SMTP server is tested in
// Rust (connectors/smtp, store/tests/mail.rs, server/tests/mail.rs).
const { test, expect } = require('@playwright/test');
const { DEMO, login } = require('./helpers');

test.beforeEach(async ({}, testInfo) => {
  expect(testInfo.project.use.javaScriptEnabled, 'this file belongs to the no-js project').toBe(false);
});

test('an admin edits a template, sees the preview and sends tests', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/admin/mail/templates', js: false });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('E-mail templates');
  await expect(page.locator('[data-mail-server]')).toContainText('no mail server: mails are written to ');

  await page.getByRole('button', { name: 'Send test mail to me' }).click();
  await expect(page).toHaveURL(/\/admin\/mail\/sent\?ok=test_mail_sent$/);
  await expect(page.getByRole('status')).toHaveText('Test mail handed over; its answer is in the list below.');
  await expect(page.locator('tr[data-mail]', { hasText: 'OpenVLE test mail' }).first())
    .toContainText(/written to .*\.eml instead of sent \(MAIL_DROP_DIR\)/);
  await page.goto('/admin/mail/templates');

  const row = page.locator('tr', { hasText: 'events_vms_ready' }).filter({ hasText: 'English' });
  await row.getByRole('link').click();
  const templateUrl = page.url();
  await expect(page.locator('[data-preview="subject"]')).toHaveText('Your machines for Sample event are ready');
  await page.locator('#field-subject').fill('Ready: {event.name} for {user.name}');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText('Saved.');
  await expect(page.locator('[data-preview="subject"]')).toHaveText(`Ready: Sample event for ${DEMO.admin.name}`);

  // A broken block is refused with the part named, and nothing is saved.
  await page.locator('#field-html').fill('<p>{% if event.end %}never closed</p>');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert')).toContainText('HTML body has the wrong format');

  await page.getByRole('button', { name: 'Send test to me' }).click();
  await expect(page).toHaveURL(/\/admin\/mail\/sent\?ok=queued$/);
  await expect(page.locator('tr', { hasText: `Ready: Sample event for ${DEMO.admin.name}` }).first()).toBeVisible();

  await page.locator('#status').selectOption('sent');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/status=sent/);

  // The template's own mails, from its page.
  await page.goto(templateUrl);
  await page.getByRole('link', { name: 'E-mails sent with it' }).click();
  await expect(page).toHaveURL(/\/admin\/mail\/sent\?template=\d+$/);
  // Other tests' deployments mail with this template too: the test mail is among them, once.
  await expect(page.locator('tr[data-mail]', { hasText: `Ready: Sample event for ${DEMO.admin.name}` })).toHaveCount(1);
});

test('forgot password answers the same for any username', async ({ page }) => {
  await page.goto('/login');
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.locator('#field-username').fill('nobody-at-all');
  await page.getByRole('button', { name: 'Send reset link' }).click();
  await expect(page).toHaveURL(/\/login\?ok=reset_sent$/);
  await expect(page.getByRole('status')).toHaveText(
    'If the account exists and has an e-mail address, a link is on its way.');
});
