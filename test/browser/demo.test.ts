// Demo mode against the real exchange: markets listed, accounts funded through the normal paths,
// a two-sided book and trades made by the bots, bounded open orders, and the same seed giving the
// same exchange state (seeded randomness, nothing else decides).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type DemoHandle, demoDefaults, startDemo } from '../../src/demo/demo.js';
import { restLogin } from './support/browser.js';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const seed = Number(process.env.HOGA_DEMO_TEST_SEED ?? 7);
const stepsMax = 40;
const levels = 4;

async function runDemo(test: TestExchange): Promise<DemoHandle> {
  const demo = await startDemo(test.exchange, {
    seed,
    stepMs: 5,
    stepsMax,
    levels,
    commandsPerSecondMax: 12_000,
    takerChancePercent: 60,
  });
  await demo.done;
  return demo;
}

describe(`demo mode (seed ${seed})`, { timeout: 120_000 }, () => {
  const started: TestExchange[] = [];
  after(async () => {
    for (const test of started) await test.close();
  });

  it('lists markets, funds accounts and makes a live two-sided market with trades', async () => {
    const test = await startTestExchange();
    started.push(test);
    const demo = await runDemo(test);
    const { engine } = test.exchange;
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
  });

  it('the same seed gives the same exchange state', async () => {
    const test = await startTestExchange();
    started.push(test);
    await runDemo(test);
    const first = started[0].exchange.engine.stateHash();
    assert.equal(test.exchange.engine.stateHash(), first, `seed ${seed}: state differs between two runs`);
  });
});
