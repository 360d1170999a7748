// Demo mode against the real exchange: markets listed, accounts funded through the normal paths,
// a two-sided book and trades made by the bots, bounded open orders, and the same seed giving the
// same exchange state (seeded randomness, nothing else decides).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type DemoHandle, demoDefaults, startDemo } from '../../src/demo/demo.js';
import { demoMarketSpecs, newcomerFunding } from '../../src/demo/markets.js';
import type { QuoteTarget } from '../../src/marketdata/feeds/feed.js';
import type { Quote } from '../../src/marketdata/ingest.js';
import { registerUser, restLogin } from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const seed = Number(process.env.HOGA_DEMO_TEST_SEED ?? 7);
const stepsMax = 40;
const levels = 4;

/** A QuoteIngest stand-in that keeps what the demo's simulated feed pushes. */
class QuoteRecorder implements QuoteTarget {
  readonly quotes: Quote[] = [];
  push(quote: Quote): boolean {
    this.quotes.push(quote);
    return true;
  }
  async whenDrained(): Promise<void> {}
}

async function runDemo(
  test: TestExchange,
  quotes: QuoteRecorder | null = null,
  steps = stepsMax,
): Promise<DemoHandle> {
  const demo = await startDemo(test.exchange, {
    seed,
    stepMs: 5,
    stepsMax: steps,
    levels,
    commandsPerSecondMax: 12_000,
    takerChancePercent: 60,
    quotes,
  });
  await demo.done;
  return demo;
}

describe(`demo mode (seed ${seed})`, { timeout: 120_000 }, () => {
  const started: TestExchange[] = [];
  let firstRunHash: string | undefined;
  after(async () => {
    for (const test of started) await test.close();
  });

  it('lists markets, funds accounts and makes a live two-sided market with trades', async () => {
    const test = await startTestExchange();
    started.push(test);
    const quotes = new QuoteRecorder();
    const demo = await runDemo(test, quotes);
    const { engine } = test.exchange;
    assert.equal(
      quotes.quotes.length,
      stepsMax * demo.symbols.length,
      'one reference quote per step and market',
    );
    const tickMinor = new Map(engine.symbols().map((market) => [market.symbol, market.tickSize]));
    for (const quote of quotes.quotes) assert.equal(quote.price % (tickMinor.get(quote.symbol) ?? 0), 0);
    assert.equal(demo.steps, stepsMax);
    assert.deepEqual(
      demo.users.map((user) => user.username),
      ['demo-maker', 'demo-taker', 'alice', 'bob'],
    );

    const listed = await fetch(`${test.exchange.url}/api/v1/symbols`).then((response) => response.json());
    assert.deepEqual((listed as Array<{ symbol: string }>).map((market) => market.symbol).sort(), [
      'BTC-USDT',
      'ETH-USDT',
      'HOGA-KRW',
    ]);
    for (const symbol of demo.symbols) {
      const depth = engine.depth(symbol, 100);
      assert.ok(depth && depth.bids.length > 0 && depth.asks.length > 0, `${symbol} has both sides`);
      assert.ok(depth.bids[0][0] < depth.asks[0][0], `${symbol} is not crossed`);
    }
    const maker = demo.users[0].userId;
    assert.ok(engine.openOrders(maker).length <= levels * 2 * demo.symbols.length, 'maker orders bounded');

    const visitor = await restLogin(test.exchange.url, 'alice', demoDefaults.password);
    const balances = (await visitor.call('GET', '/api/v1/balances')).body as Array<{
      asset: string;
      available: string;
    }>;
    assert.equal(balances.find((balance) => balance.asset === 'USDT')?.available, '5000000.000000');
    const taker = await restLogin(test.exchange.url, 'demo-taker', demoDefaults.password);
    const fills = (await taker.call('GET', '/api/v1/trades')).body as unknown[];
    assert.ok(fills.length > 0, 'the taker traded');
    engine.validateInternalState();
    firstRunHash = engine.stateHash();

    // Starting again on the same exchange (a restart on the same data) reuses the accounts and
    // markets and mints no more money for funded accounts.
    const again = await runDemo(test, null, 1);
    assert.deepEqual(again.users, demo.users);
    const after = (await visitor.call('GET', '/api/v1/balances')).body as Array<{
      asset: string;
      available: string;
    }>;
    assert.equal(after.find((balance) => balance.asset === 'USDT')?.available, '5000000.000000');
  });

  it('funds accounts registered while it runs, names its logins, and stops both when it stops', async () => {
    const test = await startTestExchange();
    started.push(test);
    const demo = await startDemo(test.exchange, { seed, stepMs: 5, stepsMax: 2, levels });
    await demo.done;
    const base = test.exchange.url;
    const welcome = (await fetch(`${base}/api/v1/welcome`).then((response) => response.json())) as {
      demo: { logins: unknown[] };
    };
    assert.deepEqual(
      welcome.demo.logins,
      demoDefaults.visitorNames.map((username) => ({ username, password: demoDefaults.password })),
    );
    const seqBefore = test.exchange.sequencer.lastSeq;
    await registerUser(base, 'newcomer', 'newcomer-password');
    const assets = [...new Set(demoMarketSpecs.flatMap((spec) => [spec.base, spec.quote]))];
    // One journaled deposit command per asset, applied before the registration was answered.
    assert.equal(test.exchange.sequencer.lastSeq, seqBefore + assets.length);
    const newcomer = await restLogin(base, 'newcomer', 'newcomer-password');
    const balances = (await newcomer.call('GET', '/api/v1/balances')).body as Array<{
      asset: string;
      available: string;
    }>;
    for (const asset of assets) {
      const shown = balances.find((balance) => balance.asset === asset)?.available ?? '';
      assert.equal(shown.includes('.') ? shown.replace(/\.?0+$/, '') : shown, newcomerFunding[asset], asset);
    }
    await demo.stop();
    const ended = await fetch(`${base}/api/v1/welcome`).then((response) => response.json());
    assert.deepEqual(ended, { demo: null });
    const lastSeq = test.exchange.sequencer.lastSeq;
    await registerUser(base, 'latecomer', 'latecomer-password');
    assert.equal(test.exchange.sequencer.lastSeq, lastSeq, 'no deposit once the demo stopped');
  });

  it('funds an account registered while the demo is still starting', async () => {
    const test = await startTestExchange();
    started.push(test);
    const base = test.exchange.url;
    // The exchange answers before the demo has listed its markets and funded its own accounts:
    // a visitor registering in that window must be welcomed like any later one.
    const starting = startDemo(test.exchange, { seed, stepMs: 5, stepsMax: 2, levels });
    await registerUser(base, 'early-bird', 'early-bird-password');
    const demo = await starting;
    await demo.done;
    const early = await restLogin(base, 'early-bird', 'early-bird-password');
    const balances = (await early.call('GET', '/api/v1/balances')).body as Array<{ asset: string }>;
    const assets = [...new Set(demoMarketSpecs.flatMap((spec) => [spec.base, spec.quote]))];
    assert.deepEqual(balances.map((balance) => balance.asset).sort(), assets.sort());
    await demo.stop();
  });

  it('the same seed gives the same exchange state', async () => {
    const test = await startTestExchange();
    started.push(test);
    await runDemo(test);
    assert.ok(firstRunHash !== undefined, 'the first run finished');
    assert.equal(
      test.exchange.engine.stateHash(),
      firstRunHash,
      `seed ${seed}: state differs between two runs`,
    );
  });
});
