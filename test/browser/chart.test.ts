// The chart loads its history: closed candles stored in the read model appear after a reload,
// merged with the live candle of the current minute without duplicates, and the price labels
// carry thousands separators. The real exchange in-process and Debian's chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { CandleJson } from '../../src/marketdata/candles.js';
import {
  adminClient,
  browserUnavailable,
  ensureWebBuilt,
  expectCreated,
  launchChromium,
  listCentsMarket,
  registerUser,
  restLogin,
} from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const skip = browserUnavailable();
const password = 'browser-test-password';
const symbol = 'BIG-USD';
const uiTimeoutMs = 20_000;
const minuteMs = 60_000;
/** Closed 1m candles stored before the page opens. */
const storedMinutes = 45;

/** A closed 1m candle `minutesAgo` minutes before the current one, at 12,3xx.xx USD. */
function storedCandle(currentMinuteMs: number, minutesAgo: number): CandleJson {
  const openMs = currentMinuteMs - minutesAgo * minuteMs;
  const price = 1_234_500 + minutesAgo;
  return {
    symbol,
    interval: '1m',
    source: 'trades',
    openMs,
    closeMs: openMs + minuteMs,
    open: price,
    high: price + 10,
    low: price - 10,
    close: price,
    volume: 2,
    quoteVolume: String(price * 2),
    trades: 1,
    closed: true,
  };
}

async function chartAttribute(page: Page, name: string): Promise<string | null> {
  return page.locator('[data-testid=chart]').getAttribute(name);
}

async function waitForChart(page: Page, name: string, expected: string): Promise<void> {
  const script = `document.querySelector('[data-testid=chart]')?.getAttribute(${JSON.stringify(name)}) === ${JSON.stringify(expected)}`;
  await page.waitForFunction(script, undefined, { timeout: uiTimeoutMs });
}

describe('chart history in chromium', { skip, timeout: 180_000 }, () => {
  let test: TestExchange;
  let browser: Browser;

  before(async () => {
    ensureWebBuilt();
    test = await startTestExchange();
    const base = test.exchange.url;
    const admin = await adminClient(base);
    await listCentsMarket(admin, { symbol: symbol, base: 'BIG', quote: 'USD' });
    const currentMinuteMs = Math.floor(Date.now() / minuteMs) * minuteMs;
    const stored = Array.from({ length: storedMinutes }, (_, index) =>
      storedCandle(currentMinuteMs, index + 1),
    );
    await test.exchange.readModel.candleSink().write(stored);
    // One trade now: the live candle of the current minute.
    for (const [name, asset, amount] of [
      ['maker', 'BIG', '10'],
      ['taker', 'USD', '100000'],
    ] as const) {
      const userId = await registerUser(base, name, password);
      await expectCreated(admin.call('POST', '/api/v1/admin/deposits', { userId, asset, amount }));
    }
    const order = { symbol, type: 'limit', price: '12345.67', qty: '1', tif: 'GTC' };
    const maker = await restLogin(base, 'maker', password);
    const taker = await restLogin(base, 'taker', password);
    await maker.call('POST', '/api/v1/orders', { ...order, side: 'sell', clientOrderId: 'chart-sell' });
    const bought = await taker.call('POST', '/api/v1/orders', {
      ...order,
      side: 'buy',
      clientOrderId: 'chart-buy',
    });
    assert.equal(bought.status, 200, JSON.stringify(bought.body));
    browser = await launchChromium();
  });

  after(async () => {
    await browser?.close();
    await test?.close();
  });

  it('shows the stored candles and the live one after every reload, with separated prices', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true });
    try {
      const page = await context.newPage();
      await page.goto(`${test.url}/#/trade/${symbol}`);
      for (let load = 0; load < 2; load += 1) {
        if (load > 0) await page.reload();
        // The live candle of this minute joins the stored ones; none is drawn twice. (Should the
        // minute end meanwhile, the trade's candle is stored too and comes with the history.)
        await waitForChart(page, 'data-bars', String(storedMinutes + 1));
        const history = Number(await chartAttribute(page, 'data-history-bars'));
        assert.ok(history === storedMinutes || history === storedMinutes + 1, `history ${history}`);
        assert.equal(await chartAttribute(page, 'data-last-close'), '12345.67');
        assert.match((await chartAttribute(page, 'aria-label')) ?? '', /last close 12,345\.67$/);
      }
    } finally {
      await context.close();
    }
  });
});
