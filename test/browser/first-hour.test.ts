// A new user's first hour, in chromium against the real exchange in demo mode: a visitor's page
// loads without a single failing request, the login page names the demo logins, a newly
// registered account starts with money, the order form refuses an order the balance cannot pay
// before sending it, the tape tells time on the 24-hour clock (in an en-US browser, whose default
// is 12-hour), and a 390 px phone gets one header line, every market on screen, the order form
// within the first screen and no tape row cut off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { type DemoHandle, demoDefaults, startDemo } from '../../src/demo/demo.js';
import { demoMarketSpecs, newcomerFunding } from '../../src/demo/markets.js';
import { browserUnavailable, ensureWebBuilt, launchChromium } from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const skip = browserUnavailable();
const password = 'first-hour-password';
/** Upper bound for anything the UI should show "at once"; generous for a 2-core shared machine. */
const uiTimeoutMs = 20_000;
const phone = { width: 390, height: 844 };

interface Failures {
  consoleErrors: string[];
  failedResponses: string[];
}

/** Records every console error and every HTTP answer of 400 or more the page sees. */
function watchFailures(page: Page): Failures {
  const failures: Failures = { consoleErrors: [], failedResponses: [] };
  page.on('console', (message) => {
    if (message.type() === 'error') failures.consoleErrors.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400) failures.failedResponses.push(`${response.status()} ${response.url()}`);
  });
  return failures;
}

async function waitForTape(page: Page): Promise<void> {
  await page.locator('[data-testid=trade-tape] tbody tr').first().waitFor({ timeout: uiTimeoutMs });
}

async function register(page: Page, url: string, username: string): Promise<void> {
  await page.goto(`${url}/#/register`);
  await page.fill('#auth-username', username);
  await page.fill('#auth-password', password);
  await page.click('form button[type=submit]');
  await page.locator('[data-testid=username]', { hasText: username }).waitFor({ timeout: uiTimeoutMs });
}

// Page-side code is passed as strings: this file is compiled for Node, without DOM types.
const measurePhoneLayout = `(() => {
  const box = (element) => element.getBoundingClientRect();
  const topbar = document.querySelector('.topbar');
  const children = [...topbar.children].map(box);
  const tapePanel = document.querySelector('.tape-panel');
  const panelBox = box(tapePanel);
  const rows = [...document.querySelectorAll('[data-testid=trade-tape] tbody tr')]
    .filter((row) => getComputedStyle(row).display !== 'none')
    .map(box);
  return {
    pageWidth: document.documentElement.scrollWidth,
    topbarHeight: box(topbar).height,
    headerTops: children.map((child) => Math.round(child.top)),
    headerRight: Math.max(...children.map((child) => child.right)),
    markets: [...document.querySelectorAll('.symbol')].map((link) => {
      const { left, right, top, bottom } = box(link);
      return { left, right, top, bottom };
    }),
    formTop: box(document.querySelector('.form-panel')).top + window.scrollY,
    submitBottom: box(document.querySelector('form.order-form button[type=submit]')).bottom + window.scrollY,
    tapeScrolls: tapePanel.scrollHeight > tapePanel.clientHeight + 1,
    tapeRows: rows.length,
    clippedRows: rows.filter((row) => row.bottom > panelBox.bottom + 0.5 || row.top < panelBox.top).length,
  };
})()`;

interface PhoneLayout {
  pageWidth: number;
  topbarHeight: number;
  headerTops: number[];
  headerRight: number;
  markets: Array<{ left: number; right: number; top: number; bottom: number }>;
  formTop: number;
  submitBottom: number;
  tapeScrolls: boolean;
  tapeRows: number;
  clippedRows: number;
}

describe('a new user’s first hour in chromium (demo mode)', { skip, timeout: 240_000 }, () => {
  let test: TestExchange;
  let demo: DemoHandle;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  before(async () => {
    ensureWebBuilt();
    test = await startTestExchange();
    demo = await startDemo(test.exchange, { stepMs: 150, levels: 4, takerChancePercent: 80 });
    browser = await launchChromium();
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await demo?.stop();
    await test?.close();
  });

  async function newPage(viewport = { width: 1280, height: 900 }): Promise<Page> {
    // en-US defaults to the 12-hour clock: the 24-hour tape must not depend on the locale.
    // The UI's CSP forbids eval; Playwright's string predicates need it in tests only.
    const context = await browser.newContext({
      viewport,
      locale: 'en-US',
      timezoneId: 'America/New_York',
      bypassCSP: true,
    });
    contexts.push(context);
    return context.newPage();
  }

  it('a visitor loads the market and the login page without one failing request', async () => {
    const page = await newPage();
    const failures = watchFailures(page);
    await page.goto(`${test.url}/#/trade/BTC-USDT`);
    await page.locator('[data-testid=order-book][data-synced=true]').waitFor({ timeout: uiTimeoutMs });
    await waitForTape(page);
    assert.deepEqual(failures, { consoleErrors: [], failedResponses: [] }, 'the market page');
    await page.goto(`${test.url}/#/login`);
    await page.reload();
    const note = page.locator('[data-testid=demo-note]');
    await note.waitFor({ timeout: uiTimeoutMs });
    const text = (await note.textContent()) ?? '';
    for (const name of demoDefaults.visitorNames) {
      await note.getByRole('button', { name, exact: true }).waitFor({ timeout: uiTimeoutMs });
    }
    assert.match(text, new RegExp(demoDefaults.password));
    assert.match(text, /100,000 USDT/);
    assert.deepEqual(failures, { consoleErrors: [], failedResponses: [] });
  });

  it('a demo login button fills the form and logs in', async () => {
    const page = await newPage();
    await page.goto(`${test.url}/#/login`);
    await page.getByRole('button', { name: 'bob', exact: true }).click();
    await page.click('form button[type=submit]');
    await page.locator('[data-testid=username]', { hasText: 'bob' }).waitFor({ timeout: uiTimeoutMs });
  });

  it('a newly registered account starts with the demo’s starting balance', async () => {
    const page = await newPage();
    await register(page, test.url, 'newcomer');
    await page.goto(`${test.url}/#/trade/BTC-USDT`);
    const assets = new Set(demoMarketSpecs.flatMap((spec) => [spec.base, spec.quote]));
    const expected = new Map([...assets].map((asset) => [asset, newcomerFunding[asset]]));
    assert.equal(expected.get('USDT'), '100000');
    await page.getByRole('tab', { name: 'Balances' }).click();
    for (const [asset, amount] of expected) {
      const cell = page.locator(`[data-testid=balances] tr[data-asset=${asset}] td.available`);
      await cell.waitFor({ timeout: uiTimeoutMs });
      const shown = ((await cell.textContent()) ?? '').trim();
      const trimmed = shown.includes('.') ? shown.replace(/\.?0+$/, '') : shown;
      assert.equal(trimmed, amount, `${asset} shows ${shown}`);
    }
    await page.locator('[data-testid=form-available]', { hasText: '100,000.00 USDT' }).waitFor({
      timeout: uiTimeoutMs,
    });
  });

  it('the order form refuses an order the balance cannot pay, before sending it', async () => {
    const page = await newPage();
    await register(page, test.url, 'overspender');
    await page.goto(`${test.url}/#/trade/BTC-USDT`);
    await page.locator('[data-testid=form-available]', { hasText: '100,000.00 USDT' }).waitFor({
      timeout: uiTimeoutMs,
    });
    const orderRequests: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/api/v1/orders') && request.method() === 'POST')
        orderRequests.push(request.url());
    });
    await page.fill('#order-price', '60000');
    await page.fill('#order-qty', '2');
    await page.click('form.order-form button[type=submit]');
    const error = page.locator('#order-qty-error');
    await error.waitFor({ timeout: uiTimeoutMs });
    assert.equal(
      (await error.textContent())?.trim(),
      'Not enough USDT: this order needs 120,000.000000 USDT and 100,000.000000 USDT is available.',
    );
    assert.equal(await page.locator('#order-qty').getAttribute('aria-invalid'), 'true');
    await page.locator('label.segment.sell').click();
    await page.fill('#order-qty', '1.5');
    await page.click('form.order-form button[type=submit]');
    await page.locator('#order-qty-error', { hasText: 'needs 1.50000000 BTC and 1.00000000 BTC' }).waitFor({
      timeout: uiTimeoutMs,
    });
    // Within the balance the same form sends the order.
    await page.fill('#order-price', '99999');
    await page.fill('#order-qty', '0.5');
    await page.click('form.order-form button[type=submit]');
    await page
      .locator('[data-testid=order-notice]', { hasText: 'resting' })
      .waitFor({ timeout: uiTimeoutMs });
    assert.equal(orderRequests.length, 1, 'only the affordable order was sent');
  });

  it('the tape tells time on the 24-hour clock', async () => {
    const page = await newPage();
    await page.goto(`${test.url}/#/trade/BTC-USDT`);
    await waitForTape(page);
    const times = await page.locator('[data-testid=trade-tape] tbody tr td:last-child').allTextContents();
    assert.ok(times.length > 0);
    for (const time of times) assert.match(time.trim(), /^([01]\d|2[0-3]):[0-5]\d:[0-5]\d$/);
  });

  it('on a 390 px phone: one header line, every market, the order form in the first screen, whole tape rows', async () => {
    const page = await newPage(phone);
    await register(page, test.url, 'phone-user-with-a-long-name');
    await page.goto(`${test.url}/#/trade/ETH-USDT`);
    await page.locator('[data-testid=order-book][data-synced=true]').waitFor({ timeout: uiTimeoutMs });
    await waitForTape(page);
    const layout = (await page.evaluate(measurePhoneLayout)) as PhoneLayout;
    const detail = JSON.stringify(layout);
    assert.ok(layout.pageWidth <= phone.width, `nothing wider than the screen: ${detail}`);
    assert.ok(layout.topbarHeight <= 56, `header is one line: ${detail}`);
    assert.ok(
      Math.max(...layout.headerTops) - Math.min(...layout.headerTops) < 20,
      `header is one line: ${detail}`,
    );
    assert.ok(layout.headerRight <= phone.width, `header fits: ${detail}`);
    assert.equal(layout.markets.length, demo.symbols.length);
    for (const market of layout.markets) {
      assert.ok(market.left >= 0 && market.right <= phone.width, `market on screen: ${detail}`);
      assert.ok(market.bottom <= phone.height, `market in the first screen: ${detail}`);
    }
    assert.ok(layout.formTop < phone.height, `order form starts in the first screen: ${detail}`);
    assert.equal(layout.tapeScrolls, false, `tape is not a scroll box: ${detail}`);
    assert.ok(layout.tapeRows > 0);
    assert.equal(layout.clippedRows, 0, `no tape row cut off: ${detail}`);
  });
});
