// Captures the main screens into docs/screenshots/ against a real exchange in demo mode:
//   npx tsc -p tsconfig.json && node dist/test/browser/screenshots.js
// Not a test (no assertions): the pictures are for docs/UI.md and the README.
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { demoDefaults, startDemo } from '../../src/demo/demo.js';
import { browserUnavailable, ensureWebBuilt, launchChromium } from './support/browser.js';
import { startTestExchange } from './support/exchange.js';

const outputDir = fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url));
/** How long the bots run before the first picture, so the chart and tape have a past. */
const warmUpMs = Number(process.env.HOGA_SCREENSHOT_WARMUP_MS ?? 45_000);

async function logIn(page: Page, url: string, username: string): Promise<void> {
  await page.goto(`${url}/#/login`);
  await page.fill('#auth-username', username);
  await page.fill('#auth-password', demoDefaults.password);
  await page.click('form button[type=submit]');
  await page.locator('[data-testid=username]').waitFor();
}

async function settle(page: Page): Promise<void> {
  await page.locator('[data-testid=order-book][data-synced=true]').waitFor();
  await page.waitForTimeout(2_500);
}

async function capture(browser: Browser, url: string): Promise<void> {
  const desktop = { viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 };
  const visitor = await (await browser.newContext(desktop)).newPage();
  await visitor.goto(`${url}/#/trade/BTC-USDT`);
  await settle(visitor);
  await visitor.screenshot({ path: `${outputDir}market-visitor.png` });

  await visitor.goto(`${url}/#/login`);
  await visitor.fill('#auth-username', 'alice');
  await visitor.screenshot({ path: `${outputDir}login.png` });

  const alice = await (await browser.newContext(desktop)).newPage();
  await logIn(alice, url, 'alice');
  await alice.goto(`${url}/#/trade/BTC-USDT`);
  await settle(alice);
  const bestBid = (await alice.locator('[data-testid=bids] .price-value').first().textContent()) ?? '';
  await alice.locator('[data-testid=bids] button').nth(3).click();
  await alice.fill('#order-qty', '0.25');
  await alice.click('form.order-form button[type=submit]');
  await alice.locator('[data-testid=order-notice]', { hasText: 'resting' }).waitFor();
  await alice.locator('label.segment.sell').click();
  await alice.fill('#order-price', bestBid.replaceAll(',', '').concat('5'));
  await alice.fill('#order-qty', '0.1');
  await alice.click('form.order-form button[type=submit]');
  await alice.locator('#order-price-error').waitFor();
  // One-second candles: a freshly started demo has a few minutes of history at most.
  await alice.getByRole('button', { name: '1s', exact: true }).click();
  await settle(alice);
  await alice.screenshot({ path: `${outputDir}trade.png` });
  await alice.screenshot({ path: `${outputDir}trade-full.png`, fullPage: true });

  await alice.goto(`${url}/#/sessions`);
  await alice.locator('.sessions tbody tr').first().waitFor();
  await alice.screenshot({ path: `${outputDir}sessions.png` });

  const phone = await (
    await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true })
  ).newPage();
  await logIn(phone, url, 'bob');
  await phone.goto(`${url}/#/trade/ETH-USDT`);
  await settle(phone);
  await phone.screenshot({ path: `${outputDir}phone.png`, fullPage: true });
}

async function main(): Promise<void> {
  if (browserUnavailable()) process.exit(1);
  ensureWebBuilt();
  mkdirSync(outputDir, { recursive: true });
  const test = await startTestExchange();
  const demo = await startDemo(test.exchange);
  const browser = await launchChromium();
  try {
    await new Promise((resolve) => setTimeout(resolve, warmUpMs));
    await capture(browser, test.url);
    process.stdout.write(`screenshots written to ${outputDir}\n`);
  } finally {
    await browser.close();
    await demo.stop();
    await test.close();
  }
}

await main();
