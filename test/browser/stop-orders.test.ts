// Stop, OCO and iceberg orders placed through the order form in chromium: a stop-limit waits in
// the Pending tab with its trigger, leaves it when another user trades through its stop price and
// then rests; an OCO shows both legs (the limit open, the stop pending) and a pending leg can be
// cancelled there; an iceberg shows only its display quantity in the order book.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import {
  adminClient,
  browserUnavailable,
  ensureWebBuilt,
  expectCreated,
  launchChromium,
  listCentsMarket,
  type RestClient,
  registerUser,
  restLogin,
} from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const skip = browserUnavailable();
const password = 'browser-test-password';
const symbol = 'ABC-USD';
const uiTimeoutMs = 20_000;

describe('stop, OCO and iceberg orders in chromium', { skip, timeout: 240_000 }, () => {
  let test: TestExchange;
  let browser: Browser;
  let other: RestClient;
  let page: Page;

  before(async () => {
    ensureWebBuilt();
    test = await startTestExchange();
    const base = test.exchange.url;
    const admin = await adminClient(base);
    await listCentsMarket(admin, { symbol: symbol, base: 'ABC', quote: 'USD' });
    const traderId = await registerUser(base, 'trader', password);
    const otherId = await registerUser(base, 'other', password);
    for (const [userId, asset, amount] of [
      [traderId, 'USD', '10000'],
      [traderId, 'ABC', '100'],
      [otherId, 'USD', '10000'],
      [otherId, 'ABC', '100'],
    ] as const)
      await expectCreated(admin.call('POST', '/api/v1/admin/deposits', { userId, asset, amount }));
    other = await restLogin(base, 'other', password);
    // A first trade at 10.00 gives the market a last price.
    await placeByRest({ side: 'sell', type: 'limit', price: '10', qty: '1' });
    await placeByRest({ side: 'buy', type: 'limit', price: '10', qty: '1' });
    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    page = await context.newPage();
    await page.goto(`${base}/#/login`);
    await page.fill('#auth-username', 'trader');
    await page.fill('#auth-password', password);
    await page.click('form button[type=submit]');
    await page.locator('[data-testid=username]', { hasText: 'trader' }).waitFor({ timeout: uiTimeoutMs });
    await page.goto(`${base}/#/trade/${symbol}`);
    await page.locator('[data-testid=order-book][data-synced=true]').waitFor({ timeout: uiTimeoutMs });
  });

  after(async () => {
    await browser?.close();
    await test?.close();
  });

  async function placeByRest(order: Record<string, unknown>): Promise<{ status: string }> {
    const reply = await other.call('POST', '/api/v1/orders', { symbol, ...order });
    assert.equal(reply.status, 200, JSON.stringify(reply.body));
    return reply.body as { status: string };
  }

  async function chooseKind(kind: string, expectedHelp: RegExp): Promise<void> {
    await page.selectOption('#order-kind', kind);
    const help = (await page.locator('[data-testid=order-kind-help]').textContent()) ?? '';
    assert.match(help, expectedHelp);
  }

  async function submitAndExpect(notice: RegExp): Promise<void> {
    await page.click('form.order-form button[type=submit]');
    await page.locator('[data-testid=order-notice]', { hasText: notice }).waitFor({ timeout: uiTimeoutMs });
  }

  function rowsOf(testId: string) {
    return page.locator(`[data-testid=${testId}] tbody tr`);
  }

  it('a stop-limit waits in the Pending tab, triggers when another user trades through it and rests', async () => {
    await page.locator('label.segment.buy').click();
    await chooseKind('stopLimit', /Waits until a trade reaches the stop price/);
    await page.fill('#order-stopPrice', '11');
    await page.fill('#order-price', '10.50');
    await page.fill('#order-qty', '3');
    await submitAndExpect(/pending until its stop price/);
    await page.getByRole('tab', { name: 'Pending' }).click();
    const pendingRow = rowsOf('pending-orders').filter({ hasText: 'stop-loss at 11.00' });
    await pendingRow.waitFor({ timeout: uiTimeoutMs });
    assert.match((await pendingRow.textContent()) ?? '', /10\.50/);

    // Another user trades at 11.00 (with itself: no self-trade prevention), the buy stop
    // triggers, runs as a limit at 10.50, finds no ask that low and rests.
    await placeByRest({ side: 'sell', type: 'limit', price: '11', qty: '1' });
    const lifted = await placeByRest({ side: 'buy', type: 'limit', price: '11', qty: '1', stp: 'none' });
    assert.equal(lifted.status, 'filled');
    await page
      .locator('[data-testid=pending-orders] tbody tr')
      .waitFor({ state: 'detached', timeout: uiTimeoutMs });
    await page.getByRole('tab', { name: 'Open orders' }).click();
    await rowsOf('open-orders').filter({ hasText: '10.50' }).waitFor({ timeout: uiTimeoutMs });
  });

  it('an OCO shows both legs, and a pending leg can be cancelled from the Pending tab', async () => {
    await page.locator('label.segment.sell').click();
    await chooseKind('oco', /Two linked orders/);
    await page.fill('#order-stopPrice', '9');
    await page.fill('#order-price', '13');
    await page.fill('#order-stopLimitPrice', '8.90');
    await page.fill('#order-qty', '2');
    await submitAndExpect(/resting in the book/);
    await page.getByRole('tab', { name: 'Open orders' }).click();
    const legA = rowsOf('open-orders').filter({ hasText: '13.00' });
    await legA.waitFor({ timeout: uiTimeoutMs });
    assert.match((await legA.textContent()) ?? '', /OCO with #/);
    await page.getByRole('tab', { name: 'Pending' }).click();
    const legB = rowsOf('pending-orders').filter({ hasText: 'stop-loss at 9.00' });
    await legB.waitFor({ timeout: uiTimeoutMs });
    assert.match((await legB.textContent()) ?? '', /8\.90/);
    // Cancelling leg B cancels leg A too (reason OCO).
    await legB.getByRole('button', { name: /Cancel order/ }).click();
    await legB.waitFor({ state: 'detached', timeout: uiTimeoutMs });
    await page.getByRole('tab', { name: 'Open orders' }).click();
    await rowsOf('open-orders')
      .filter({ hasText: '13.00' })
      .waitFor({ state: 'detached', timeout: uiTimeoutMs });
  });

  it('an iceberg shows only its display quantity in the order book', async () => {
    await page.locator('label.segment.sell').click();
    await chooseKind('iceberg', /shows only the display quantity/);
    await page.fill('#order-price', '14');
    await page.fill('#order-qty', '20');
    await page.fill('#order-displayQty', '5');
    await submitAndExpect(/resting in the book/);
    const level = page.locator('[data-testid=asks] li', { hasText: '14.00' });
    await level.waitFor({ timeout: uiTimeoutMs });
    assert.equal((await level.locator('.qty').textContent())?.trim(), '5');
    await page.getByRole('tab', { name: 'Open orders' }).click();
    const row = rowsOf('open-orders').filter({ hasText: '14.00' });
    await row.waitFor({ timeout: uiTimeoutMs });
    assert.match((await row.textContent()) ?? '', /shows 5/);
  });
});
