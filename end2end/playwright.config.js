// Browser tests of the OpenVLE demo. Playwright starts `openvle demo` on a
// fresh data directory and stops it afterwards; the browser is Debian's
// Chromium (no Playwright browser download is needed or wanted).
//
//   npm install --prefix end2end
//   npx --prefix end2end playwright test --config end2end/playwright.config.js
//
// Environment: OPENVLE_BIN (default ../target/openvle, relative to end2end/),
// E2E_PORT (default 8123; the OpenID provider listens on E2E_PORT + 100),
// CHROMIUM_PATH (default /usr/bin/chromium),
// E2E_KEEP_DATA=1 (keep the temporary data directory after the run).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { defineConfig } = require('@playwright/test');

const port = Number(process.env.E2E_PORT || 8123);
const baseURL = `http://127.0.0.1:${port}`;
const bin = process.env.OPENVLE_BIN || '../target/openvle';
const siteRoot = path.resolve(__dirname, '..', 'target', 'site');
// A real OpenID provider (npm oidc-provider, the fixture of connectors/oidc) for the
// single sign-on tests; the demo is configured to use it.
const oidcPort = port + 100;
const oidcIssuer = `http://127.0.0.1:${oidcPort}`;
const oidcFixtures = path.resolve(__dirname, '..', 'connectors', 'oidc', 'tests', 'fixtures');

// The config is loaded by the runner and again by each worker; only the
// runner starts the server, so only it needs (and makes) a data directory.
const isWorker = process.env.TEST_WORKER_INDEX !== undefined;
const dataDir = isWorker ? '' : fs.mkdtempSync(path.join(os.tmpdir(), 'openvle-e2e-'));
// The tests read the demo simulator's state file there (deployment.spec.js);
// the workers inherit the runner's environment.
if (dataDir) process.env.OPENVLE_E2E_DATA_DIR = dataDir;
if (dataDir && !process.env.E2E_KEEP_DATA) {
  // The server is stopped by then; E2E_KEEP_DATA=1 keeps the database for a look.
  process.on('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
}

const chromium = {
  browserName: 'chromium',
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  },
};

module.exports = defineConfig({
  testDir: './tests',
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 30_000,
  expect: { timeout: 10_000 },
  reporter: 'list',
  forbidOnly: !!process.env.CI,
  use: {
    baseURL,
    locale: 'en-US',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      testIgnore: '**/nojs.*.spec.js',
      use: { ...chromium, javaScriptEnabled: true },
    },
    {
      name: 'no-js',
      testMatch: '**/nojs.*.spec.js',
      use: { ...chromium, javaScriptEnabled: false },
    },
  ],
  webServer: [{
    command: 'node provider.mjs',
    cwd: oidcFixtures,
    url: `${oidcIssuer}/.well-known/openid-configuration`,
    reuseExistingServer: false,
    timeout: 30_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      OIDC_PORT: String(oidcPort),
      OIDC_REDIRECT_URI: `${baseURL}/auth/oidc/callback`,
      OIDC_POST_LOGOUT: `${baseURL}/login`,
    },
  }, {
    command: `${bin} demo`,
    cwd: __dirname,
    url: `${baseURL}/healthz`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      OPENVLE_SITE_ROOT: siteRoot,
      OPENVLE_DATA_DIR: dataDir,
      OPENVLE_LISTEN: `127.0.0.1:${port}`,
      RUST_LOG: process.env.RUST_LOG || 'warn',
      OIDC_ENABLED: 'True',
      OIDC_ISSUER: oidcIssuer,
      OIDC_CLIENT_ID: 'test-client',
      OIDC_CLIENT_SECRET: 'test-secret',
      OIDC_REDIRECT_URL: `${baseURL}/auth/oidc/callback`,
      OIDC_DISPLAY_NAME: 'Example SSO',
      OIDC_LOGOUT: 'True',
      OIDC_ROLE_RULES: 'teachers=instructor',
    },
  }],
});
