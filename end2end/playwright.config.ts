import { defineConfig } from '@playwright/test';

// The suite runs against the release build started below; scripts/test builds it first.
const port = Number(process.env.KEYSTONE_E2E_PORT ?? 3100);
const targetDir = process.env.CARGO_TARGET_DIR ?? `${process.env.HOME}/.cache/keystone-dashboard/target`;
const baseURL = `http://127.0.0.1:${port}`;
// The embedded sandbox on a known port, so tests can call it as an M2M client would.
const sandboxPort = Number(process.env.KEYSTONE_E2E_SANDBOX_PORT ?? 4110);
process.env.KEYSTONE_E2E_SANDBOX_URL = `http://127.0.0.1:${sandboxPort}`;
// The second dashboard, against a sandbox in its non-default settings.
const otherPort = port + 1;
const otherURL = `http://127.0.0.1:${otherPort}`;
const otherSandboxPort = sandboxPort + 1;
process.env.KEYSTONE_E2E_OTHER_URL = otherURL;

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    },
  },
  webServer: [
    {
      command: `${targetDir}/release/keystone-dashboard --listen-addr 127.0.0.1:${port} --public-url ${baseURL} --site-root ../target/site --session-store memory --sandbox-addr 127.0.0.1:${sandboxPort} --sign-in-rate-limit-per-minute 10000`,
      url: `${baseURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
    {
      // A second dashboard whose sandbox differs from ours wherever KeyStone publishes nothing:
      // roles without permissions, invitations listing role ids, permissions in another vocabulary,
      // and an OpenID provider that serves its own endpoint paths with an issuer without a
      // trailing slash (fidelity.spec.ts).
      command: `${targetDir}/release/keystone-dashboard --listen-addr 127.0.0.1:${otherPort} --public-url ${otherURL} --site-root ../target/site --session-store memory --sandbox-addr 127.0.0.1:${otherSandboxPort} --sign-in-rate-limit-per-minute 10000 --sandbox-roles-without-permissions --sandbox-invitation-roles-as-ids --sandbox-foreign-permissions --sandbox-oidc-profile generic`,
      url: `${otherURL}/healthz`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: 'ignore',
      stderr: 'pipe',
    },
  ],
});
