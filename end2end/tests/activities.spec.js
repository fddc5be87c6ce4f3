// The activity log's CSV export, as a browser downloads it.
const fs = require('fs');
const { DEMO, login, test, expect } = require('./helpers');

test('Export CSV downloads the filtered activity log', async ({ page }) => {
  await login(page, DEMO.admin, { next: '/activities?action=user.login' });
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Activities');
  // Activities reach the log through the outbox (forwarded every 2 s): this
  // sign-in may not be there yet when this is the suite's first test.
  await expect.poll(async () => {
    const csv = await (await page.request.get('/activities/export.csv?action=user.login')).text();
    return csv.trim().split('\n').length;
  }, { timeout: 15_000 }).toBeGreaterThan(1);
  const downloading = page.waitForEvent('download');
  await page.getByRole('link', { name: 'Export CSV' }).click();
  const download = await downloading;
  expect(download.suggestedFilename()).toBe('activities.csv');
  expect(await download.failure()).toBeNull();
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  expect(lines[0]).toMatch(/^time_utc,actor,/);
  // At least this sign-in, and only sign-ins (the filter is kept).
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) {
    expect(line).toContain('user.login');
  }
  // Still on the log: the download did not navigate away.
  await expect(page).toHaveURL(/\/activities\?action=user\.login$/);
});
