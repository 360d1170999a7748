// The Offerings page end to end: the real exchange in-process, Debian's chromium, two users in two
// browser contexts and a visitor in a third. The admin creates an offering over REST; both users
// (and the visitor) watch the live units-left counter drop as each claims, a double click claims
// once, a claim past the per-user maximum shows PER_USER_LIMIT next to the input, and each user's
// claims and single coupon are listed.
// HOGA_OFFERINGS_SCREENSHOT=<path> also saves a picture of the page (docs/screenshots/offerings.png).
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
  registerUser,
  restClient,
} from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const skip = browserUnavailable();
const password = 'browser-test-password';
/** Upper bound for anything the UI should show "at once"; generous for a 2-core shared machine. */
const uiTimeoutMs = 20_000;
const offeringUnits = 20;
const perUserMax = 4;
/** What each user holds at the end: below the maximum, so a second claim of a double click would fit. */
const claimedEach = 3;

async function logInTo(context: BrowserContext, url: string, username: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${url}/#/login`);
  await page.fill('#auth-username', username);
  await page.fill('#auth-password', password);
  await page.click('form button[type=submit]');
  await page.locator('[data-testid=username]', { hasText: username }).waitFor({ timeout: uiTimeoutMs });
  await page.getByRole('link', { name: 'Offerings' }).click();
  await page.locator('[data-testid=offering]').first().waitFor({ timeout: uiTimeoutMs });
  return page;
}

// Page-side code is passed as strings: this file is compiled for Node, without DOM types.
async function waitForText(page: Page, selector: string, expected: string): Promise<void> {
  const script = `document.querySelector(${JSON.stringify(selector)})?.textContent?.trim() === ${JSON.stringify(expected)}`;
  try {
    await page.waitForFunction(script, undefined, { timeout: uiTimeoutMs });
  } catch (error) {
    const actual = await page
      .locator(selector)
      .first()
      .textContent({ timeout: 1_000 })
      .catch(() => null);
    throw new Error(`${selector}: expected ${JSON.stringify(expected)}, saw ${JSON.stringify(actual)}`, {
      cause: error,
    });
  }
}

const unitsLeft = '[data-testid=offering] [data-testid=units-left]';

async function claim(page: Page, units: number, click: 'click' | 'dblclick' = 'click'): Promise<void> {
  await page.fill('[data-testid=claim-units]', String(units));
  await page.locator('[data-testid=claim-button]')[click]();
}

describe('offerings UI in chromium', { skip, timeout: 240_000 }, () => {
  let test: TestExchange;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let alice: Page;
  let bob: Page;
  let visitor: Page;

  before(async () => {
    ensureWebBuilt();
    test = await startTestExchange();
    const base = test.exchange.url;
    const admin = await adminClient(base);
    // The market registers the assets' decimals that the offering's amounts are read with.
    await listCentsMarket(admin, { symbol: 'ABC-USD', base: 'ABC', quote: 'USD', feeBps: 10 });
    const issuer = await registerUser(base, 'issuer', password);
    await expectCreated(
      admin.call('POST', '/api/v1/admin/deposits', { userId: issuer, asset: 'ABC', amount: '100' }),
    );
    for (const name of ['alice', 'bob']) {
      const userId = await registerUser(base, name, password);
      await expectCreated(
        admin.call('POST', '/api/v1/admin/deposits', { userId, asset: 'USD', amount: '1000' }),
      );
    }
    const nowMs = Date.now();
    await expectCreated(
      admin.call('POST', '/api/v1/admin/offerings', {
        asset: 'ABC',
        quote: 'USD',
        price: '2.50',
        unitSize: '1',
        units: offeringUnits,
        perUserMax,
        startTime: nowMs - 60_000,
        endTime: nowMs + 3_600_000,
        issuerUserId: issuer,
        coupon: { makerDiscountPct: 50, takerDiscountPct: 25, expiresAt: nowMs + 86_400_000, uses: 5 },
      }),
    );
    browser = await launchChromium();
    for (let index = 0; index < 3; index++) {
      // The UI's CSP forbids eval; Playwright's string predicates need it in tests only.
      contexts.push(await browser.newContext({ viewport: { width: 1280, height: 900 }, bypassCSP: true }));
    }
    alice = await logInTo(contexts[0], test.url, 'alice');
    bob = await logInTo(contexts[1], test.url, 'bob');
    visitor = await contexts[2].newPage();
    await visitor.goto(`${test.url}/#/offerings`);
  });

  after(async () => {
    for (const context of contexts) await context.close();
    await browser?.close();
    await test?.close();
  });

  it('lists the offering with its terms, and nothing claimed yet', async () => {
    for (const page of [alice, bob]) {
      await waitForText(page, unitsLeft, String(offeringUnits));
      await waitForText(page, '[data-testid=offering-price]', '2.50 USD per unit of 1 ABC');
      await waitForText(page, '[data-testid=offering-phase]', 'open');
      const coupon = await page.locator('[data-testid=offering-coupon]').textContent();
      assert.match(coupon ?? '', /^50% off maker and 25% off taker fees, 5 uses, until /);
      assert.equal(await page.locator('[data-testid=my-coupons]').count(), 0);
    }
  });

  it('a claim in one context drops the counter live in both', async () => {
    await claim(alice, 2);
    await waitForText(alice, '[data-testid=claim-done]', 'Claimed 2 units for 5.00 USD; fee coupon issued.');
    await waitForText(alice, unitsLeft, String(offeringUnits - 2));
    await waitForText(bob, unitsLeft, String(offeringUnits - 2));
    await claim(bob, 3);
    await waitForText(bob, unitsLeft, String(offeringUnits - 5));
    await waitForText(alice, unitsLeft, String(offeringUnits - 5));
    // A visitor without a session watches the same channel.
    await waitForText(visitor, unitsLeft, String(offeringUnits - 5));
    assert.equal(await visitor.locator('[data-testid=claim-button]').count(), 0);
    const bar = await alice.getByRole('progressbar').getAttribute('aria-valuenow');
    assert.equal(bar, String(Math.floor((5 * 100) / offeringUnits)));
  });

  it('a double click claims once', async () => {
    await claim(alice, 1, 'dblclick');
    await waitForText(alice, '[data-testid=claim-done]', 'Claimed 1 unit for 2.50 USD.');
    await waitForText(bob, unitsLeft, String(offeringUnits - 6));
    await waitForText(alice, '[data-testid=my-claims] .units', String(claimedEach));
  });

  it('a claim past the per-user maximum shows PER_USER_LIMIT and claims nothing', async () => {
    await claim(alice, perUserMax - claimedEach + 1);
    const error = alice.locator('[data-testid=claim-error]');
    await error.waitFor({ timeout: uiTimeoutMs });
    assert.equal(await error.getAttribute('data-code'), 'PER_USER_LIMIT');
    assert.equal(await alice.locator('[data-testid=claim-units]').getAttribute('aria-invalid'), 'true');
    await waitForText(alice, unitsLeft, String(offeringUnits - 6));
  });

  it('my claims and my coupons list what each user holds', async () => {
    // Long after the double click: a second claim from it would have landed by now.
    const listed = await restClient(test.exchange.url, '').call('GET', '/api/v1/offerings');
    const [offering] = listed.body as Array<{ left: number }>;
    assert.equal(offering.left, offeringUnits - 2 * claimedEach);
    for (const page of [alice, bob]) {
      await waitForText(page, '[data-testid=my-claims] .units', String(claimedEach));
      await page.locator('[data-testid=my-coupons]').waitFor({ timeout: uiTimeoutMs });
      assert.equal(await page.locator('[data-testid=my-coupons] tbody tr').count(), 1);
      await waitForText(page, '[data-testid=my-coupons] .uses-left', '5 of 5');
    }
    const screenshot = process.env.HOGA_OFFERINGS_SCREENSHOT;
    if (screenshot) await alice.screenshot({ path: screenshot, fullPage: true });
  });
});
