// Limited offerings over real HTTP against the whole exchange: the oversell scenario that started
// the issue (7 concurrent claims of 2 against 10 units), coupons once per winner, idempotent claims
// across a restart, a coupon's discount in a later trade's fee, admin routes and BOLA.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Api, startTestExchange, type TestExchange, TestSocket } from './support/exchange.js';

let exchange: TestExchange;
let api: Api;
let admin: string;
let issuer: { id: number; token: string };

async function newUser(name: string, usd: string): Promise<{ id: number; token: string }> {
  const id = await api.register(name);
  const token = await api.login(name);
  if (usd !== '0') await api.deposit(admin, id, 'USD', usd);
  return { id, token };
}

/** Polls /readyz (bounded) until the read model has projected every applied command. */
async function readModelCaughtUp(): Promise<void> {
  const deadlineMs = Date.now() + 20_000;
  while ((await api.expect(200, 'GET', '/readyz')).readModelLag !== 0) {
    assert.ok(Date.now() < deadlineMs, 'the read model caught up in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function createOffering(fields: Record<string, unknown> = {}): Promise<any> {
  const now = Date.now();
  return api.expect(
    201,
    'POST',
    '/api/v1/admin/offerings',
    {
      asset: 'IPO',
      quote: 'USD',
      price: '5',
      unitSize: '1',
      units: 10,
      perUserMax: 2,
      startTime: now - 60_000,
      endTime: now + 3_600_000,
      issuerUserId: issuer.id,
      coupon: { makerDiscountPct: 50, takerDiscountPct: 40, expiresAt: now + 3_600_000, uses: 3 },
      ...fields,
    },
    admin,
  );
}

before(async () => {
  exchange = await startTestExchange((config) => {
    config.gateway.limits.loginsPerIp = { ratePerSecond: 1_000, burst: 1_000, bucketsMax: 1_000 };
  });
  api = exchange.api;
  admin = await api.adminToken();
  await api.createMarket(admin, 'IPO-USD', 'IPO', 'USD');
  issuer = await newUser('issuer', '0');
  await api.deposit(admin, issuer.id, 'IPO', '1000');
});

after(async () => {
  await exchange.close();
});

describe('offerings', () => {
  it('7 concurrent claims of 2 units against 10: exactly 5 succeed, 2 SOLD_OUT, 0 left, 5 coupons', async () => {
    const offering = await createOffering();
    assert.equal(offering.left, 10);
    const claimants = await Promise.all(
      Array.from({ length: 7 }, (_, index) => newUser(`claimant${index}`, '100')),
    );
    const replies = await Promise.all(
      claimants.map((user) =>
        api.call('POST', `/api/v1/offerings/${offering.id}/claims`, { units: 2 }, user.token),
      ),
    );
    const succeeded = replies.filter((reply) => reply.status === 201);
    const soldOut = replies.filter((reply) => reply.status === 422 && reply.body.code === 'SOLD_OUT');
    assert.equal(succeeded.length, 5, JSON.stringify(replies.map((reply) => reply.body)));
    assert.equal(soldOut.length, 2);
    const after = await api.expect(200, 'GET', `/api/v1/offerings/${offering.id}`);
    assert.equal(after.left, 0);
    let coupons = 0;
    for (const user of claimants) {
      const held = await api.expect(200, 'GET', '/api/v1/coupons', undefined, user.token);
      coupons += held.length;
      const balances = await api.expect(200, 'GET', '/api/v1/balances', undefined, user.token);
      const ipo = balances.find((balance: any) => balance.asset === 'IPO');
      const usd = balances.find((balance: any) => balance.asset === 'USD');
      if (held.length === 1) {
        assert.equal(ipo.available, '2.00000000');
        assert.equal(usd.available, '90.000000');
      } else {
        assert.equal(ipo, undefined);
        assert.equal(usd.available, '100.000000');
      }
    }
    assert.equal(coupons, 5);
    const allocations = await api.expect(
      200,
      'GET',
      `/api/v1/admin/offerings/${offering.id}/allocations`,
      undefined,
      admin,
    );
    assert.equal(allocations.length, 5);
    assert.ok(allocations.every((entry: any) => entry.units === 2));
    const issuerBalances = await api.expect(200, 'GET', '/api/v1/balances', undefined, issuer.token);
    assert.equal(issuerBalances.find((balance: any) => balance.asset === 'USD').available, '50.000000');
  });

  it('refuses with stable codes: closed early, over the per-user max, unknown, and admin-only routes', async () => {
    const offering = await createOffering({ units: 5, perUserMax: 1 });
    const user = await newUser('limits', '100');
    const path = `/api/v1/offerings/${offering.id}/claims`;
    assert.equal((await api.call('POST', path, { units: 2 }, user.token)).body.code, 'PER_USER_LIMIT');
    assert.equal((await api.call('POST', path, { units: 0 }, user.token)).status, 400);
    assert.equal(
      (await api.call('POST', '/api/v1/offerings/999999/claims', { units: 1 }, user.token)).status,
      404,
    );
    assert.equal((await api.call('POST', path, { units: 1 })).status, 401);
    assert.equal(
      (await api.call('POST', `/api/v1/admin/offerings/${offering.id}/close`, {}, user.token)).status,
      403,
    );
    const closed = await api.expect(200, 'POST', `/api/v1/admin/offerings/${offering.id}/close`, {}, admin);
    assert.equal(closed.closed, true);
    assert.equal(closed.left, 0);
    assert.equal((await api.call('POST', path, { units: 1 }, user.token)).body.code, 'OFFERING_CLOSED');
    const later = await createOffering({
      startTime: Date.now() + 3_600_000,
      endTime: Date.now() + 7_200_000,
    });
    const early = await api.call('POST', `/api/v1/offerings/${later.id}/claims`, { units: 1 }, user.token);
    assert.equal(early.body.code, 'OFFERING_NOT_OPEN');
  });

  it('concurrent creations all succeed, each with its own id (the sequence of its command)', async () => {
    const created = await Promise.all([1, 2, 3, 4].map((units) => createOffering({ units })));
    const ids = created.map((offering) => offering.id as number);
    assert.equal(new Set(ids).size, ids.length, `ids ${ids}`);
    for (const [index, offering] of created.entries()) {
      const fetched = await api.expect(200, 'GET', `/api/v1/offerings/${offering.id}`);
      assert.equal(fetched.units, index + 1);
    }
  });

  it('a clientClaimId claims once, even when duplicates race and after a restart', async () => {
    const offering = await createOffering();
    const user = await newUser('retrier', '100');
    const path = `/api/v1/offerings/${offering.id}/claims`;
    const body = { units: 1, clientClaimId: 'claim-1' };
    const replies = await Promise.all([1, 2, 3].map(() => api.call('POST', path, body, user.token)));
    assert.deepEqual(
      replies.map((reply) => reply.status),
      [201, 201, 201],
    );
    assert.equal(new Set(replies.map((reply) => reply.body.seq)).size, 1);
    await exchange.restart();
    api = exchange.api;
    const again = await api.expect(201, 'POST', path, body, user.token);
    assert.equal(again.seq, replies[0].body.seq);
    const other = await api.call('POST', path, { ...body, units: 2 }, user.token);
    assert.deepEqual(
      [other.status, other.body.code, other.body.field],
      [409, 'CLIENT_CLAIM_ID_CONFLICT', 'clientClaimId'],
    );
    const claims = await api.expect(200, 'GET', '/api/v1/claims', undefined, user.token);
    assert.deepEqual(
      claims.filter((claim: any) => claim.offeringId === offering.id),
      [{ offeringId: offering.id, units: 1 }],
    );
    const coupons = await api.expect(200, 'GET', '/api/v1/coupons', undefined, user.token);
    assert.equal(coupons.filter((coupon: any) => coupon.offeringId === offering.id).length, 1);
    admin = await api.adminToken();
  });

  it("a winner's coupon takes its discount off a later trade's fee (hand computed)", async () => {
    const offering = await createOffering({ units: 4 });
    const winner = await newUser('winner', '100');
    const buyer = await newUser('buyer', '100');
    await api.expect(201, 'POST', `/api/v1/offerings/${offering.id}/claims`, { units: 2 }, winner.token);
    await api.expect(
      200,
      'POST',
      '/api/v1/orders',
      { symbol: 'IPO-USD', side: 'buy', type: 'limit', price: '10', qty: '1' },
      buyer.token,
    );
    const sold = await api.expect(
      200,
      'POST',
      '/api/v1/orders',
      { symbol: 'IPO-USD', side: 'sell', type: 'limit', price: '10', qty: '1', tif: 'IOC' },
      winner.token,
    );
    // The seller receives 10 USD; taker fee 20 bps = 0.02 USD; the coupon's 40% takes 0.008 off.
    assert.equal(sold.fills.length, 1);
    assert.equal(sold.fills[0].fee, '0.012000');
    const coupons = await api.expect(200, 'GET', '/api/v1/coupons', undefined, winner.token);
    const coupon = coupons.find((entry: any) => entry.offeringId === offering.id);
    assert.equal(coupon.usesLeft, 2);

    // The read model's history: the coupon, the fee it discounted, and every entry of the claim
    // (naming the offering) and of the trade.
    await readModelCaughtUp();
    const history = await api.expect(200, 'GET', '/api/v1/history/coupons', undefined, winner.token);
    assert.deepEqual(
      history.items.map((entry: Record<string, unknown>) => [
        entry.offeringId,
        entry.uses,
        entry.usesLeft,
        entry.takerDiscountPct,
      ]),
      [[offering.id, 3, 2, 40]],
    );
    const uses = await api.expect(200, 'GET', '/api/v1/history/coupon-uses', undefined, winner.token);
    assert.deepEqual(uses.items, [
      {
        tradeId: sold.fills[0].tradeId,
        role: 'taker',
        offeringId: offering.id,
        feeAsset: 'USD',
        fullFee: '0.020000',
        fee: '0.012000',
        usesLeft: 2,
        seq: sold.seq,
        atMs: sold.ts,
      },
    ]);
    const ledger = await api.expect(200, 'GET', '/api/v1/history/ledger', undefined, winner.token);
    assert.deepEqual(
      ledger.items.map((entry: Record<string, unknown>) => [
        entry.kind,
        entry.asset,
        entry.amount,
        entry.tradeId,
        entry.offeringId,
      ]),
      [
        ['fee', 'USD', '-0.012000', sold.fills[0].tradeId, null],
        ['trade', 'USD', '10.000000', sold.fills[0].tradeId, null],
        ['trade', 'IPO', '-1.00000000', sold.fills[0].tradeId, null],
        ['claim', 'IPO', '2.00000000', null, offering.id],
        ['claim', 'USD', '-10.000000', null, offering.id],
        ['deposit', 'USD', '100.000000', null, null],
      ],
    );
  });

  it('streams units left on offerings.<id> to WebSocket subscribers, and claims over WebSocket', async () => {
    const offering = await createOffering({ units: 6, perUserMax: 3 });
    const user = await newUser('socketeer', '100');
    const socket = await TestSocket.open(api.url);
    try {
      const ack = await socket.request('subscribe', { ch: `offerings.${offering.id}` });
      assert.equal(ack.ok, true, JSON.stringify(ack));
      await socket.request('auth', { token: user.token });
      const claim = await socket.request('claim', { offeringId: offering.id, units: 3 });
      assert.equal(claim.ok, true, JSON.stringify(claim));
      assert.equal(claim.result.left, 3);
      const update = await socket.next(
        (message: any) => message.ch === `offerings.${offering.id}` && message.data?.left === 3,
      );
      assert.equal(update.data.units, 6);
    } finally {
      socket.close();
    }
  });
});
