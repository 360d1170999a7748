// The API keys page in chromium: a key created there shows its secret once (a reload does not show
// it again), signs a Binance-style request that the exchange accepts, and once revoked there (after
// a confirmation) is refused. A server refusal is shown with the API's own message.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserUnavailable, ensureWebBuilt, launchChromium, registerUser } from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const skip = browserUnavailable();
const password = 'browser-test-password';
const uiTimeoutMs = 20_000;

describe('API keys page in chromium', { skip, timeout: 180_000 }, () => {
  let test: TestExchange;
  let browser: Browser;
  let page: Page;
  let keyId = '';
  let secret = '';

  before(async () => {
    ensureWebBuilt();
    test = await startTestExchange();
    await registerUser(test.url, 'keyholder', password);
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    await page.goto(`${test.url}/#/login`);
    await page.fill('#auth-username', 'keyholder');
    await page.fill('#auth-password', password);
    await page.click('form button[type=submit]');
    await page.locator('[data-testid=username]', { hasText: 'keyholder' }).waitFor({ timeout: uiTimeoutMs });
  });

  after(async () => {
    await browser?.close();
    await test?.close();
  });

  /** A signed `GET /api/v3/account` made with node crypto, as a program would. */
  async function signedAccount(): Promise<{ status: number; body: { canTrade?: boolean; code?: number } }> {
    const text = `timestamp=${Date.now()}`;
    const signature = createHmac('sha256', secret).update(text).digest('hex');
    const response = await fetch(`${test.url}/api/v3/account?${text}&signature=${signature}`, {
      headers: { 'x-mbx-apikey': keyId },
    });
    return {
      status: response.status,
      body: (await response.json()) as { canTrade?: boolean; code?: number },
    };
  }

  it('is reachable from the navigation and starts empty', async () => {
    await page.getByRole('link', { name: 'API keys' }).click();
    await page.locator('#api-keys-title').waitFor({ timeout: uiTimeoutMs });
    assert.match((await page.locator('.api-keys').textContent()) ?? '', /You have no API keys/);
  });

  it('shows a server refusal with the API message', async () => {
    await page.fill('#api-key-label', 'bad list');
    await page.fill('#api-key-allowlist', 'not-an-address');
    await page.click('form.api-key-form button[type=submit]');
    const problem = page.locator('#api-key-ipAllowlist-error');
    await problem.waitFor({ timeout: uiTimeoutMs });
    assert.match((await problem.textContent()) ?? '', /not an IP address or CIDR range/);
    assert.equal(await page.locator('[data-testid=api-keys]').count(), 0, 'nothing was created');
  });

  it('creates a key whose secret is shown once and signs requests', async () => {
    await page.fill('#api-key-label', 'my bot');
    await page.fill('#api-key-allowlist', '');
    await page.check('#api-key-trade');
    await page.click('form.api-key-form button[type=submit]');
    const dialog = page.locator('[data-testid=api-key-secret-dialog]');
    await dialog.waitFor({ timeout: uiTimeoutMs });
    assert.match((await dialog.textContent()) ?? '', /will not be shown again/);
    keyId = ((await dialog.locator('[data-testid=api-key-id]').textContent()) ?? '').trim();
    secret = ((await dialog.locator('[data-testid=api-key-secret]').textContent()) ?? '').trim();
    assert.match(keyId, /^[0-9a-f]{64}$/);
    assert.match(secret, /^[0-9a-f]{64}$/);

    await dialog.getByRole('button', { name: 'I have saved the secret' }).click();
    await dialog.waitFor({ state: 'detached', timeout: uiTimeoutMs });
    const row = page.locator('[data-testid=api-keys] tbody tr', { hasText: 'my bot' });
    await row.waitFor({ timeout: uiTimeoutMs });
    const rowText = (await row.textContent()) ?? '';
    assert.match(rowText, /read, trade/);
    assert.match(rowText, /any/);
    assert.ok(rowText.includes(keyId), 'the key id is listed');
    assert.ok(!(await page.content()).includes(secret), 'the secret is gone from the page');

    await page.reload();
    await row.waitFor({ timeout: uiTimeoutMs });
    assert.equal(await page.locator('[data-testid=api-key-secret-dialog]').count(), 0);
    assert.ok(!(await page.content()).includes(secret), 'a reload does not show the secret');

    const account = await signedAccount();
    assert.equal(account.status, 200, JSON.stringify(account.body));
    assert.equal(account.body.canTrade, true);
  });

  it('revokes the key after a confirmation, and the key is then refused', async () => {
    const row = page.locator('[data-testid=api-keys] tbody tr', { hasText: 'my bot' });
    // Dismissing the confirmation keeps the key.
    page.once('dialog', (dialog) => void dialog.dismiss());
    await row.getByRole('button', { name: 'Revoke my bot' }).click();
    assert.equal((await signedAccount()).status, 200);
    assert.equal(await row.count(), 1);

    page.once('dialog', (dialog) => {
      assert.match(dialog.message(), /Revoke the API key "my bot"/);
      void dialog.accept();
    });
    await row.getByRole('button', { name: 'Revoke my bot' }).click();
    await row.waitFor({ state: 'detached', timeout: uiTimeoutMs });
    const refused = await signedAccount();
    assert.equal(refused.status, 401, JSON.stringify(refused.body));
    assert.equal(refused.body.code, -2015);
  });
});
