// The trading UI end to end: the real exchange in-process (port 0, temp data dir), Debian's
// chromium, two users in two browser contexts. A seller rests an order, a buyer takes it from the
// book, both see the trade in the tape, their balances and the chart; logging out of every device
// sends the user's other tab and other device to the login page; the book recovers by itself
// after the server drops the socket.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
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
/** Upper bound for anything the UI should show "at once"; generous for a 2-core shared machine. */
const uiTimeoutMs = 20_000;

async function logIn(context: BrowserContext, url: string, username: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/#/login`);
  await page.fill('#auth-username', username);
  await page.fill('#auth-password', password);
  await page.click('form button[type=submit]');
  await page.locator('[data-testid=username]', { hasText: username }).waitFor({ timeout: uiTimeoutMs });
  await page.goto(`${url}/#/trade/${symbol}`);
  await page.locator('[data-testid=order-book][data-synced=true]').waitFor({ timeout: uiTimeoutMs });
  return page;
}

async function levelPrices(page: Page, side: 'asks' | 'bids'): Promise<string[]> {
  return page.locator(`[data-testid=${side}] .price-value`).allTextContents();
}

// Page-side code is passed as strings: this file is compiled for Node, without DOM types.
async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  const script = `document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() === ${JSON.stringify(expected)}`;
  await page.waitForFunction(script, undefined, { timeout: uiTimeoutMs });
}

async function waitForAttribute(page: Page, selector: string, name: string, expected: string): Promise<void> {
  const script = `document.querySelector(${JSON.stringify(selector)})?.getAttribute(${JSON.stringify(name)}) === ${JSON.stringify(expected)}`;
  await page.waitForFunction(script, undefined, { timeout: uiTimeoutMs });
}

async function balance(page: Page, asset: string, column: 'available' | 'locked'): Promise<string> {
  await page.getByRole('tab', { name: 'Balances' }).click();
  const cell = page.locator(`[data-testid=balances] tr[data-asset=${asset}] td.${column}`);
  await cell.waitFor({ timeout: uiTimeoutMs });
  return (await cell.textContent())?.trim() ?? '';
}

async function waitForHash(page: Page, hash: string): Promise<void> {
  await page.waitForFunction(`location.hash === ${JSON.stringify(hash)}`, undefined, {
    timeout: uiTimeoutMs,
  });
}

/** Records every text the connection badge shows from now on, in `window.connectionStates`. */
const recordConnectionStates = `(() => {
  const seen = [];
  window.connectionStates = seen;
  const badge = document.querySelector('[data-testid=connection]');
  new MutationObserver(() => seen.push(badge.textContent)).observe(badge, {
    subtree: true,
    characterData: true,
    childList: true,
  });
})()`;

describe('trading UI in chromium', { skip, timeout: 240_000 }, () => {
  let test: TestExchange;
  let browser: Browser;
  let seller: RestClient;
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuilt();
    test = await startTestExchange();
    const base = test.exchange.url;
    const admin = await adminClient(base);
    await listCentsMarket(admin, { symbol: symbol, base: 'ABC', quote: 'USD', feeBps: 10 });
    const sellerId = await registerUser(base, 'seller', password);
    await expectCreated(
      admin.call('POST', '/api/v1/admin/deposits', { userId: sellerId, asset: 'ABC', amount: '100' }),
    );
    seller = await restLogin(base, 'seller', password);
    browser = await launchChromium();
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await test?.close();
  });

  async function newContext(): Promise<BrowserContext> {
    // The UI's CSP forbids eval; Playwright's string predicates need it in tests only.
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    contexts.push(context);
    return context;
  }

  let sellerPage: Page;
  let buyerPage: Page;
  let buyerContext: BrowserContext;

  it('a visitor registers in the UI and sees a deposit arrive live', async () => {
    buyerContext = await newContext();
    buyerPage = await buyerContext.newPage();
    await buyerPage.goto(`${test.url}/#/trade/${symbol}`);
    await buyerPage.getByRole('button', { name: 'Sign up' }).click();
    await buyerPage.fill('#auth-username', 'buyer');
    await buyerPage.fill('#auth-password', password);
    await buyerPage.click('form button[type=submit]');
    await buyerPage.locator('[data-testid=username]', { hasText: 'buyer' }).waitFor({ timeout: uiTimeoutMs });
    await buyerPage.goto(`${test.url}/#/trade/${symbol}`);
    await waitForText(buyerPage, '[data-testid=form-available]', '0.00 USD');

    const buyer = await restLogin(test.exchange.url, 'buyer', password);
    const me = (await buyer.call('GET', '/api/v1/me')).body as { userId: number };
    const admin = await adminClient(test.exchange.url);
    await expectCreated(
      admin.call('POST', '/api/v1/admin/deposits', { userId: me.userId, asset: 'USD', amount: '10000' }),
    );
    // Pushed on the private balances stream: no reload.
    await waitForText(buyerPage, '[data-testid=form-available]', '10,000.00 USD');
  });

  it('a resting sell is bought from the book; both users see the trade, balances and chart', async () => {
    sellerPage = await logIn(await newContext(), test.url, 'seller');

    await sellerPage.locator('label.segment.sell').click();
    await sellerPage.fill('#order-price', '12.5');
    await sellerPage.fill('#order-qty', '4');
    await sellerPage.click('form.order-form button[type=submit]');
    await sellerPage
      .locator('[data-testid=order-notice]', { hasText: 'resting' })
      .waitFor({ timeout: uiTimeoutMs });
    assert.equal(await balance(sellerPage, 'ABC', 'locked'), '4');

    // The buyer's book shows the ask; clicking its price fills the form; the keyboard does the rest.
    const ask = buyerPage.locator('[data-testid=asks] button', { hasText: '12.50' });
    await ask.waitFor({ timeout: uiTimeoutMs });
    // The form may still be settling (market info, account reload) when the first click lands:
    // click until the price is in the form, a bounded number of times.
    for (let attempt = 0; attempt < 5; attempt++) {
      await ask.click();
      if ((await buyerPage.inputValue('#order-price')) === '12.50') break;
      await buyerPage
        .locator('#order-price[value="12.50"]')
        .waitFor({ timeout: 1_000 })
        .catch(() => undefined);
    }
    assert.equal(await buyerPage.inputValue('#order-price'), '12.50');
    await buyerPage.focus('#order-qty');
    await buyerPage.keyboard.type('4');
    await buyerPage.keyboard.press('Enter');
    await buyerPage
      .locator('[data-testid=order-notice]', { hasText: 'filled' })
      .waitFor({ timeout: uiTimeoutMs });

    for (const page of [sellerPage, buyerPage]) {
      const row = page.locator('[data-testid=trade-tape] tbody tr').first();
      await row.locator('td', { hasText: '12.50' }).waitFor({ timeout: uiTimeoutMs });
      assert.match((await row.textContent()) ?? '', /12\.50\s*4/);
      await waitForAttribute(page, '[data-testid=chart]', 'data-last-close', '12.50');
      assert.deepEqual(await levelPrices(page, 'asks'), []);
    }
    // 4 ABC for 50.00 USD; each side pays 10 bps of what it receives, rounded down.
    assert.equal(await balance(buyerPage, 'ABC', 'available'), '4');
    assert.equal(await balance(buyerPage, 'USD', 'available'), '9950.00');
    assert.equal(await balance(sellerPage, 'USD', 'available'), '49.95');
    assert.equal(await balance(sellerPage, 'ABC', 'locked'), '0');
  });

  it('the client refuses an off-tick price before sending and shows why next to the field', async () => {
    await buyerPage.fill('#order-price', '12.505');
    await buyerPage.fill('#order-qty', '1');
    await buyerPage.click('form.order-form button[type=submit]');
    const error = buyerPage.locator('#order-price-error');
    await error.waitFor({ timeout: uiTimeoutMs });
    assert.match((await error.textContent()) ?? '', /decimal places|multiple/);
    assert.equal(await buyerPage.getAttribute('#order-price', 'aria-invalid'), 'true');
  });

  it('the book recovers by itself after the server drops the socket', async () => {
    await sellerPage.evaluate(recordConnectionStates);
    assert.ok(test.dropSockets() >= 2, 'the exchange held the browsers’ sockets');
    const placed = await seller.call('POST', '/api/v1/orders', {
      symbol,
      side: 'sell',
      type: 'limit',
      price: '13.00',
      qty: '2',
    });
    assert.equal(placed.status, 200);
    await waitForText(sellerPage, '[data-testid=connection]', 'Live');
    await sellerPage
      .locator('[data-testid=asks] button', { hasText: '13.00' })
      .waitFor({ timeout: uiTimeoutMs });
    assert.deepEqual(await levelPrices(sellerPage, 'asks'), ['13.00']);
    await sellerPage.locator('[data-testid=asks] li[data-mine=true]').waitFor({ timeout: uiTimeoutMs });
    assert.deepEqual(await levelPrices(sellerPage, 'bids'), []);
    const states = (await sellerPage.evaluate('window.connectionStates')) as string[];
    assert.ok(
      states.some((state) => state.includes('Reconnecting')),
      `states seen: ${states.join(', ')}`,
    );
  });

  it('open orders are amended (reduced) and cancelled from the account panel', async () => {
    await sellerPage.getByRole('tab', { name: 'Open orders' }).click();
    const row = sellerPage.locator('[data-testid=open-orders] tbody tr', { hasText: '13.00' });
    await row.getByRole('button', { name: 'Amend' }).click();
    await row.getByLabel('New quantity').fill('1');
    await row.getByRole('button', { name: 'Save' }).click();
    await row.locator('td', { hasText: '1 / 2' }).waitFor({ timeout: uiTimeoutMs });
    await waitForText(sellerPage, '[data-testid=asks] .qty', '1');
    await row.getByRole('button', { name: /Cancel order/ }).click();
    await sellerPage
      .locator('[data-testid=open-orders] tbody tr')
      .first()
      .waitFor({ state: 'detached', timeout: uiTimeoutMs });
    await sellerPage
      .locator('[data-testid=asks] button')
      .first()
      .waitFor({ state: 'detached', timeout: uiTimeoutMs });
    assert.equal(await balance(sellerPage, 'ABC', 'locked'), '0');
  });

  it('logging out of every device sends the other tab and the other device to login', async () => {
    const otherTab = await buyerContext.newPage();
    await otherTab.goto(`${test.url}/#/trade/${symbol}`);
    await otherTab.locator('[data-testid=username]', { hasText: 'buyer' }).waitFor({ timeout: uiTimeoutMs });
    const otherDevice = await logIn(await newContext(), test.url, 'buyer');

    await buyerPage.goto(`${test.url}/#/sessions`);
    await buyerPage.locator('.sessions tbody tr').nth(1).waitFor({ timeout: uiTimeoutMs });
    assert.equal(await buyerPage.locator('.sessions .badge', { hasText: 'this device' }).count(), 1);
    await buyerPage.getByRole('button', { name: 'Log out of every device' }).click();

    await waitForHash(buyerPage, '#/login');
    await waitForHash(otherTab, '#/login');
    // Another browser shares nothing with this one: only the server closing its socket can tell it.
    await waitForHash(otherDevice, '#/login');
    assert.equal(await otherDevice.locator('[data-testid=username]').count(), 0);
  });
});
