// Offerings at scale: several client processes send 50,000 concurrent claims over WebSocket
// against a running exchange. Accepted units must equal the offering exactly, no user may exceed
// the per-user maximum, every winner holds exactly one coupon, and balances are conserved.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { promisify } from 'node:util';
import { type Api, startTestExchange, type TestExchange } from './support/exchange.js';

const run = promisify(execFile);
const clientProcesses = 4;
const usersTotal = 250;
const claimsPerUser = 200;
const offeringUnits = 500;
const perUserMax = 3;
const depositUsd = '100';

let exchange: TestExchange;
let api: Api;

before(async () => {
  exchange = await startTestExchange((config) => {
    const limits = config.gateway.limits;
    limits.requestsPerIp = { ratePerSecond: 1_000_000, burst: 1_000_000, bucketsMax: 1_000 };
    limits.loginsPerIp = { ratePerSecond: 1_000_000, burst: 1_000_000, bucketsMax: 1_000 };
    limits.ordersPerUser = { ratePerSecond: 1_000, burst: 1_000, bucketsMax: 10_000 };
  });
  api = exchange.api;
});

after(async () => {
  await exchange.close();
});

async function inBatches<T, R>(items: T[], size: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += size) {
    results.push(...(await Promise.all(items.slice(start, start + size).map(work))));
  }
  return results;
}

it(`${usersTotal * claimsPerUser} concurrent claims from ${clientProcesses} processes never oversell`, async () => {
  const admin = await api.adminToken();
  await api.createMarket(admin, 'TOK-USD', 'TOK', 'USD');
  const issuerId = await api.register('load-issuer');
  await api.deposit(admin, issuerId, 'TOK', String(offeringUnits));
  const now = Date.now();
  const offering = await api.expect(
    201,
    'POST',
    '/api/v1/admin/offerings',
    {
      asset: 'TOK',
      quote: 'USD',
      price: '1.5',
      unitSize: '1',
      units: offeringUnits,
      perUserMax,
      startTime: now - 60_000,
      endTime: now + 3_600_000,
      issuerUserId: issuerId,
      coupon: { makerDiscountPct: 25, takerDiscountPct: 25, expiresAt: now + 3_600_000, uses: 10 },
    },
    admin,
  );
  const names = Array.from({ length: usersTotal }, (_, index) => `load${index}`);
  const users = await inBatches(names, 16, async (name) => {
    const id = await api.register(name);
    await api.deposit(admin, id, 'USD', depositUsd);
    return { id, token: await api.login(name) };
  });

  const client = join(import.meta.dirname, 'support', 'claim-client.js');
  const share = Math.ceil(usersTotal / clientProcesses);
  const outputs = await Promise.all(
    Array.from({ length: clientProcesses }, (_, index) => {
      const plan = {
        url: api.url,
        offeringId: offering.id,
        claimsPerUser,
        users: users.slice(index * share, (index + 1) * share),
      };
      return run(process.execPath, [client], {
        env: { ...process.env, HOGA_CLAIM_PLAN: JSON.stringify(plan) },
        maxBuffer: 64 << 20,
      });
    }),
  );
  const tallies = outputs.flatMap((output) => JSON.parse(output.stdout)) as Array<{
    userId: number;
    acceptedUnits: number;
    codes: Record<string, number>;
  }>;

  const replies = tallies.reduce(
    (sum, tally) => sum + Object.values(tally.codes).reduce((a, b) => a + b, 0),
    0,
  );
  assert.equal(replies, usersTotal * claimsPerUser, 'every claim got a reply');
  const accepted = tallies.reduce((sum, tally) => sum + tally.acceptedUnits, 0);
  assert.equal(accepted, offeringUnits, 'accepted units equal the offering exactly');
  assert.ok(
    tallies.every((tally) => tally.acceptedUnits <= perUserMax),
    'no user above the per-user maximum',
  );
  const codes = new Set(tallies.flatMap((tally) => Object.keys(tally.codes)));
  assert.deepEqual(
    [...codes].sort(),
    ['CLAIMED', 'PER_USER_LIMIT', 'SOLD_OUT'].filter((code) => codes.has(code)),
  );

  const engine = exchange.exchange.engine as typeof exchange.exchange.engine & {
    offering(id: number): { left: number } | undefined;
    couponsOf(user: number): unknown[];
    claimsOf(user: number): Array<{ offering: number; units: number }>;
  };
  engine.validateInternalState();
  assert.equal(engine.offering(offering.id)?.left, 0);
  let usdTotal = engine.balance(issuerId, 'USD').available + engine.balance(0, 'USD').available;
  for (const tally of tallies) {
    const claimed = engine.claimsOf(tally.userId).find((claim) => claim.offering === offering.id)?.units ?? 0;
    assert.equal(claimed, tally.acceptedUnits, `user ${tally.userId}: engine and replies agree`);
    assert.equal(engine.couponsOf(tally.userId).length, claimed > 0 ? 1 : 0, `user ${tally.userId} coupons`);
    const usd = engine.balance(tally.userId, 'USD');
    usdTotal += usd.available + usd.locked;
    assert.equal(engine.balance(tally.userId, 'TOK').available, claimed * 100_000_000);
  }
  assert.equal(usdTotal, usersTotal * 100 * 1_000_000, 'USD is conserved');
});
