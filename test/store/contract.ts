// The read model's contract: one suite, run against every backend (pglite.test.ts,
// postgres.test.ts). Seeds are printed in assertion messages so a failure reproduces.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Engine, FEE_USER } from '../../src/core/engine.js';
import type { Command } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import { coreEngineFactory } from '../../src/journal/engine-factory.js';
import type { CommandOutcome } from '../../src/ports.js';
import { SqlCandleSink } from '../../src/store/candle-sink.js';
import { StoreError } from '../../src/store/errors.js';
import { journalCatchUp, journalOutcomes } from '../../src/store/journal-source.js';
import { migrate } from '../../src/store/migrate.js';
import { dropPartitionsBefore, listPartitions, partitionSpanMs } from '../../src/store/partitions.js';
import type { Page } from '../../src/store/ports.js';
import type { ProjectorOptions } from '../../src/store/projector.js';
import { migrations } from '../../src/store/schema.js';
import { rebuildProjections, type Store } from '../../src/store/store.js';
import { type Backend, dumpProjection, silentLogger, uniqueSchema } from './backends.js';
import { engineFlow, issuerId, traderIds } from './engine-flow.js';
import { OutcomeStream, streamOf } from './outcomes.js';

const startTsMs = Date.UTC(2026, 10, 24, 9);
/** A projector stuck retrying fails its test instead of hanging the run. */
const testTimeoutMs = 120_000;

function outcomesOf(seed: number, count: number, stepMs = 1_000): CommandOutcome[] {
  return new OutcomeStream({ seed, usersCount: 6, stepMs, startTsMs }).take(count);
}

type Numeric = number | string;

async function collectPages<Item>(fetch: (cursor: string | null) => Promise<Page<Item>>): Promise<Item[]> {
  const items: Item[] = [];
  let cursor: string | null = null;
  for (let pagesLeft = 10_000; pagesLeft > 0; pagesLeft -= 1) {
    const page: Page<Item> = await fetch(cursor);
    items.push(...page.items);
    if (page.next === null) return items;
    cursor = page.next;
  }
  throw new Error('pagination did not end');
}

export function storeContract(backend: Backend): void {
  describe(`read model contract on ${backend.name}`, () => {
    let skipReason: string | undefined;
    const schemas: string[] = [];

    before(async () => {
      skipReason = await backend.unavailable();
      if (skipReason !== undefined && process.env.CI === 'true') throw new Error(skipReason);
      if (skipReason !== undefined)
        process.stderr.write(`\n*** SKIPPING ${backend.name} store tests: ${skipReason}\n\n`);
    });

    after(async () => {
      for (const schema of schemas) await backend.dropSchema(schema);
      await backend.close();
    });

    /** Runs `work` on a store in a fresh schema; the schema is dropped after the suite. */
    async function withStore(
      context: TestContext,
      work: (store: Store) => Promise<void>,
      options?: { migrate?: boolean },
    ): Promise<void> {
      if (skipReason !== undefined) {
        context.skip(skipReason);
        return;
      }
      const schema = uniqueSchema('store');
      schemas.push(schema);
      const store = await backend.openStore(schema, options);
      try {
        await work(store);
      } finally {
        await store.close();
      }
    }

    /** The rows of `outcomes` projected in one go: the reference the other scenarios must equal. */
    async function referenceDump(store: Store, outcomes: CommandOutcome[]) {
      await rebuildProjections(store, streamOf(outcomes), () => undefined);
      return dumpProjection(store);
    }

    it('migrates once and records every version', { timeout: testTimeoutMs }, async (context) => {
      await withStore(context, async (store) => {
        const again = await migrate(store.database, silentLogger);
        assert.deepEqual(again, { applied: [], version: migrations.length });
        const rows = await store.database.query<{ version: number }>('SELECT version FROM schema_migrations');
        assert.deepEqual(
          rows.map((row) => Number(row.version)).sort((left, right) => left - right),
          migrations.map((migration) => migration.version),
        );
      });
    });

    it('moves version 3 order events into groups, read as before', {
      timeout: testTimeoutMs,
    }, async (context) => {
      await withStore(
        context,
        async (store) => {
          const v3 = await migrate(store.database, silentLogger, migrations.slice(0, 3));
          assert.equal(v3.version, 3);
          const dayMs = Date.UTC(2026, 0, 5);
          await store.database.query(
            `CREATE TABLE order_events_d20260105 PARTITION OF order_events
             FOR VALUES FROM (${dayMs}) TO (${dayMs + partitionSpanMs})`,
          );
          const old: Array<[number, number, number, number, string, number, string | null]> = [
            // seq, event index, order, user, kind, qty, reason
            [10, 0, 7, 1, 'accepted', 5, null],
            [10, 1, 7, 1, 'rested', 5, null],
            [11, 0, 8, 2, 'accepted', 3, null],
            [12, 2, 7, 1, 'cancelled', 5, 'USER'],
          ];
          for (const [seq, eventIndex, orderId, userId, kind, qty, reason] of old) {
            await store.database.query(
              `INSERT INTO order_events (seq, event_index, ts_ms, order_id, user_id, symbol, kind, side, price, qty, reason)
               VALUES ($1, $2, $3, $4, $5, 'AAA/USD', $6, 'buy', 250, $7, $8)`,
              [seq, eventIndex, dayMs + seq, orderId, userId, kind, qty, reason],
            );
          }
          const v4 = await migrate(store.database, silentLogger, migrations.slice(0, 4));
          assert.deepEqual(v4, { applied: [4], version: 4 });
          const events = await collectPages((cursor) =>
            store.history.eventsOfOrder(1, 7, { cursor, limit: 1 }),
          );
          assert.deepEqual(
            events.map((event) => [
              event.seq,
              event.eventIndex,
              event.tsMs,
              event.kind,
              event.price,
              event.qty,
              event.reason,
            ]),
            [
              [10, 0, dayMs + 10, 'accepted', 250, 5, null],
              [10, 1, dayMs + 10, 'rested', 250, 5, null],
              [12, 2, dayMs + 12, 'cancelled', 250, 5, 'USER'],
            ],
          );
          assert.deepEqual(
            (await store.history.eventsOfOrder(2, 7, { limit: 10 })).items,
            [],
            'another user sees nothing',
          );
          const view = await store.database.query<{ count: number | string }>(
            'SELECT count(*) AS count FROM order_events',
          );
          assert.equal(Number(view[0].count), old.length);
          const partitions = await listPartitions(store.database);
          assert.deepEqual(
            partitions.map((partition) => [partition.table, partition.name, partition.startMs]),
            [['order_event_groups', 'order_event_groups_d20260105', dayMs]],
          );
        },
        { migrate: false },
      );
    });

    it('keeps version 4 ledger rows through version 5, fees now read from trades', {
      timeout: testTimeoutMs,
    }, async (context) => {
      await withStore(
        context,
        async (store) => {
          await migrate(store.database, silentLogger, migrations.slice(0, 4));
          await store.database.query(
            `INSERT INTO ledger (seq, entry_index, ts_ms, user_id, asset, kind, amount, trade_id)
             VALUES (3, 0, 1000, 1, 'USD', 'deposit', 500, NULL), (4, 0, 2000, 1, 'AAA', 'fee', -2, 1)`,
          );
          assert.deepEqual(await migrate(store.database, silentLogger, migrations.slice(0, 5)), {
            applied: [5],
            version: 5,
          });
          // The fee row left the table: fees are legs of `trades` now (this test has no trade 1).
          const ledger = await store.history.ledgerOfUser(1, { limit: 10 });
          assert.deepEqual(
            ledger.items.map((entry) => [
              entry.seq,
              entry.kind,
              entry.amount,
              entry.tradeId,
              entry.offeringId,
            ]),
            [[3, 'deposit', 500, null, null]],
          );
          assert.deepEqual((await store.history.couponsOfUser(1, { limit: 10 })).items, []);
        },
        { migrate: false },
      );
    });

    it('creates users with ids from 1 and unique names in any case', {
      timeout: testTimeoutMs,
    }, async (context) => {
      await withStore(context, async (store) => {
        const alice = await store.users.createUser('Alice', 'hash-a', false, 1_000);
        const bob = await store.users.createUser('bob', 'hash-b', true, 2_000);
        assert.equal(alice.id, 1);
        assert.equal(bob.id, 2);
        await assert.rejects(store.users.createUser('ALICE', 'x', false, 3_000), (error: unknown) => {
          return error instanceof StoreError && error.code === 'USERNAME_TAKEN';
        });
        assert.deepEqual(await store.users.findUserByName('aLiCe'), alice);
        assert.deepEqual(await store.users.findUserById(2), {
          id: 2,
          username: 'bob',
          passwordHash: 'hash-b',
          isAdmin: true,
          createdAtMs: 2_000,
        });
        assert.equal(await store.users.findUserById(3), undefined);
        assert.equal(await store.users.findUserByName('carol'), undefined);
        assert.equal(await store.users.countUsers(), 2);
      });
    });

    it('keeps sessions by token hash, touches forward only, logs out everywhere', {
      timeout: testTimeoutMs,
    }, async (context) => {
      await withStore(context, async (store) => {
        const user = await store.users.createUser('dave', 'h', false, 0);
        const other = await store.users.createUser('erin', 'h', false, 0);
        const session = (tokenHash: string, userId: number, createdAtMs: number) => ({
          tokenHash,
          userId,
          device: 'test',
          ip: '127.0.0.1',
          createdAtMs,
          lastSeenAtMs: createdAtMs,
        });
        await store.sessions.createSession(session('aa', user.id, 10));
        await store.sessions.createSession(session('bb', user.id, 20));
        await store.sessions.createSession(session('cc', other.id, 30));
        await store.sessions.touchSession('aa', 50);
        await store.sessions.touchSession('aa', 40);
        assert.equal((await store.sessions.findSession('aa'))?.lastSeenAtMs, 50);
        assert.deepEqual(
          (await store.sessions.listSessions(user.id)).map((found) => found.tokenHash),
          ['aa', 'bb'],
        );
        await store.sessions.deleteSession('bb');
        assert.equal(await store.sessions.findSession('bb'), undefined);
        assert.deepEqual(await store.sessions.deleteSessionsOfUser(user.id), ['aa']);
        assert.deepEqual(await store.sessions.listSessions(user.id), []);
        assert.equal((await store.sessions.findSession('cc'))?.userId, other.id);
      });
    });

    it('projects the same rows whatever the batch size, and the open orders match the book', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 11;
      const stream = new OutcomeStream({ seed, usersCount: 6, stepMs: 1_000, startTsMs });
      const outcomes = stream.take(500);
      await withStore(context, async (store) => {
        const reference = await referenceDump(store, outcomes);
        const trades = outcomes.flatMap((outcome) => outcome.events.filter((event) => event.ev === 'trade'));
        assert.equal(reference.trades.length, trades.length, `seed ${seed}`);
        assert.ok(trades.length > 50, 'the stream trades');
        const rebuilt = await rebuildProjections(store, streamOf(outcomes), () => undefined, {
          batchOutcomesMax: 9,
        });
        assert.equal(rebuilt.projectedSeq, 500);
        assert.deepEqual(await dumpProjection(store), reference, `seed ${seed}`);
        const open = await store.database.query<{ order_id: number; remaining_qty: number }>(
          `SELECT order_id, remaining_qty FROM orders WHERE status IN ('open', 'partiallyFilled') ORDER BY order_id`,
        );
        const resting = restingOrdersOf(outcomes);
        assert.deepEqual(
          open.map((row) => [Number(row.order_id), Number(row.remaining_qty)]),
          resting,
          `seed ${seed}`,
        );
      });
    });

    it('live projection with timed flushes equals a rebuild from the journal', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 12;
      const outcomes = outcomesOf(seed, 600);
      await withStore(context, async (store) => {
        const projector = await store.openProjector({ batchOutcomesMax: 37, flushIntervalMs: 1 });
        for (const outcome of outcomes) projector.offer(outcome);
        assert.equal(projector.lag(600), 600 - projector.projectedSeq);
        await projector.close();
        assert.equal(projector.lag(600), 0);
        const live = await dumpProjection(store);
        let progressCalls = 0;
        await rebuildProjections(store, streamOf(outcomes), () => {
          progressCalls += 1;
        });
        assert.ok(progressCalls > 0);
        assert.deepEqual(await dumpProjection(store), live, `seed ${seed}`);
      });
    });

    it('live projection of the real sequencer equals a rebuild from its journal', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 18;
      const stream = new OutcomeStream({ seed, usersCount: 6, stepMs: 1, startTsMs });
      const commands: Command[] = Array.from({ length: 1_500 }, () => {
        const { ts: _ignored, ...command } = stream.next().command;
        return command as Command;
      });
      const journalDir = mkdtempSync(join(tmpdir(), 'hoga-store-journal-'));
      try {
        await withStore(context, async (store) => {
          // A small queue makes the live projector fall behind and catch up from the journal
          // that the sequencer is still appending to.
          const projector = await store.openProjector({
            batchOutcomesMax: 64,
            flushIntervalMs: 2,
            pendingOutcomesMax: 150,
            catchUp: journalCatchUp(journalDir, coreEngineFactory()),
          });
          const opened = await openSequencer({
            dataDir: journalDir,
            engines: coreEngineFactory(),
            logger: silentLogger,
            fsyncPolicy: 'none',
            listeners: [(outcome) => projector.offer(outcome)],
          });
          // Each half goes to the journal as one write and is applied (offered) in one go, so the
          // queue overflows for sure; the second half is appended while the catch-up may be reading.
          const half = commands.length / 2;
          await Promise.all(commands.slice(0, half).map((command) => opened.sequencer.submit(command)));
          await Promise.all(commands.slice(half).map((command) => opened.sequencer.submit(command)));
          await opened.sequencer.close();
          await projector.close();
          assert.ok(projector.stats().fellBehindCount > 0, 'the live projector had to catch up');
          assert.equal(projector.projectedSeq, commands.length);
          const live = await dumpProjection(store);
          assert.ok(live.trades.length > 100, `seed ${seed}: the engine traded (${live.trades.length})`);
          const rebuilt = await rebuildProjections(
            store,
            journalOutcomes(journalDir, new Engine()),
            () => undefined,
          );
          assert.equal(rebuilt.outcomes, commands.length);
          assert.deepEqual(await dumpProjection(store), live, `seed ${seed}`);
        });
      } finally {
        rmSync(journalDir, { recursive: true, force: true });
      }
    });

    it('a crash inside a batch, at several points, neither loses nor repeats a row', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 13;
      const outcomes = outcomesOf(seed, 500);
      await withStore(context, async (store) => {
        const reference = await referenceDump(store, outcomes);
        await rebuildProjections(store, streamOf([]), () => undefined);
        // Each run crashes in its `crashAtBatch`-th transaction, after its rows were written.
        for (const crashAtBatch of [3, 1, 5]) {
          const crashed = await crashingRun(store, outcomes, crashAtBatch);
          const checkpoint = await checkpointOf(store);
          assert.equal(
            crashed.committedSeq,
            checkpoint,
            `seed ${seed}: checkpoint is the last committed batch`,
          );
          const tradesCommitted = outcomes
            .filter((outcome) => outcome.seq <= checkpoint)
            .flatMap((outcome) => outcome.events.filter((event) => event.ev === 'trade')).length;
          const tradeRows = await store.database.query<{ count: number }>(
            'SELECT count(*) AS count FROM trades',
          );
          assert.equal(
            Number(tradeRows[0].count),
            tradesCommitted,
            `seed ${seed}: no rows of the failed batch`,
          );
        }
        // Recovery replays the whole journal into a fresh projector.
        const projector = await store.openProjector({ batchOutcomesMax: 41 });
        for (const outcome of outcomes) projector.offer(outcome);
        await projector.close();
        assert.deepEqual(await dumpProjection(store), reference, `seed ${seed}`);
      });
    });

    it('two projectors on one database write every row once', { timeout: testTimeoutMs }, async (context) => {
      const seed = 14;
      const outcomes = outcomesOf(seed, 400);
      await withStore(context, async (store) => {
        const reference = await referenceDump(store, outcomes);
        await rebuildProjections(store, streamOf([]), () => undefined);
        const first = await store.openProjector({ batchOutcomesMax: 23, flushIntervalMs: 1 });
        const second = await store.openProjector({ batchOutcomesMax: 31, flushIntervalMs: 1 });
        for (const outcome of outcomes) {
          first.offer(outcome);
          second.offer(outcome);
        }
        await Promise.all([first.close(), second.close()]);
        assert.deepEqual(await dumpProjection(store), reference, `seed ${seed}`);
      });
    });

    it('a projector reads an order back after another projector changed it', {
      timeout: testTimeoutMs,
    }, async (context) => {
      // First caches the resting order, second fills part of it, first fills more: first must not
      // start from the row it cached before second's batch.
      const engine = new Engine();
      const commands: Command[] = [
        {
          op: 'symbol',
          symbol: 'AAA/USD',
          base: 'AAA',
          quote: 'USD',
          lotSize: 1,
          tickSize: 1,
          makerFeeBps: 0,
          takerFeeBps: 0,
        },
        { op: 'deposit', user: 1, asset: 'USD', amount: 10_000 },
        { op: 'deposit', user: 2, asset: 'AAA', amount: 10 },
        { op: 'place', user: 1, id: 4, symbol: 'AAA/USD', side: 'buy', type: 'limit', qty: 5, price: 100 },
        { op: 'place', user: 2, id: 5, symbol: 'AAA/USD', side: 'sell', type: 'limit', qty: 1, price: 100 },
        { op: 'place', user: 2, id: 6, symbol: 'AAA/USD', side: 'sell', type: 'limit', qty: 1, price: 100 },
      ];
      const outcomes = commands.map((command, index): CommandOutcome => {
        const ts = startTsMs + index;
        const stamped = { ...command, ts } as Command;
        return {
          seq: index + 1,
          ts,
          command: stamped,
          events: engine.apply(stamped).map((event) => ({ ...event })),
        };
      });
      await withStore(context, async (store) => {
        const reference = await referenceDump(store, outcomes);
        await rebuildProjections(store, streamOf([]), () => undefined);
        const first = await store.openProjector();
        const second = await store.openProjector();
        await first.project(streamOf(outcomes.slice(0, 4)));
        await second.project(streamOf(outcomes.slice(0, 5)));
        await first.project(streamOf(outcomes.slice(0, 6)));
        await Promise.all([first.close(), second.close()]);
        const rows = await store.database.query<{ filled_qty: number | string }>(
          'SELECT filled_qty FROM orders WHERE order_id = 4',
        );
        assert.equal(Number(rows[0].filled_qty), 2);
        assert.deepEqual(await dumpProjection(store), reference);
      });
    });

    it('falls behind past its bound and catches up from the journal', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 15;
      const outcomes = outcomesOf(seed, 300);
      await withStore(context, async (store) => {
        const reference = await referenceDump(store, outcomes);
        await rebuildProjections(store, streamOf([]), () => undefined);
        const projector = await store.openProjector({
          pendingOutcomesMax: 20,
          batchOutcomesMax: 10,
          catchUp: (afterSeq) => streamOf(outcomes.filter((outcome) => outcome.seq > afterSeq)),
        });
        for (const outcome of outcomes) projector.offer(outcome);
        assert.ok(projector.stats().fellBehindCount > 0);
        await projector.close();
        assert.equal(projector.projectedSeq, 300);
        assert.deepEqual(await dumpProjection(store), reference, `seed ${seed}`);
      });
    });

    it('stops at a gap in the sequence instead of skipping, and catches up over it', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 19;
      const outcomes = outcomesOf(seed, 200);
      const withGap = outcomes.filter((outcome) => outcome.seq <= 80 || outcome.seq > 120);
      await withStore(context, async (store) => {
        const reference = await referenceDump(store, outcomes);
        await rebuildProjections(store, streamOf([]), () => undefined);
        const stuck = await store.openProjector({ batchOutcomesMax: 16 });
        for (const outcome of withGap) stuck.offer(outcome);
        await stuck.close();
        assert.equal(stuck.projectedSeq, 80, 'nothing after the gap');
        assert.equal(stuck.lag(200), 120);
        const catchUp = (afterSeq: number) => streamOf(outcomes.filter((outcome) => outcome.seq > afterSeq));
        const healing = await store.openProjector({ batchOutcomesMax: 16, catchUp });
        for (const outcome of withGap) healing.offer(outcome);
        await healing.close();
        assert.equal(healing.projectedSeq, 200);
        assert.deepEqual(await dumpProjection(store), reference, `seed ${seed}`);

        // The tables emptied under a running projector (a rebuild started elsewhere): its next
        // batch no longer follows the checkpoint, so it catches up from the journal instead.
        const running = await store.openProjector({ batchOutcomesMax: 16, catchUp });
        await rebuildProjections(store, streamOf(outcomes.slice(0, 10)), () => undefined);
        const more = outcomesOf(seed, 260);
        for (const outcome of more) running.offer(outcome);
        await running.close();
        assert.equal(running.stats().fellBehindCount, 1);
        assert.equal(running.projectedSeq, 200, 'the catch-up source ends at 200');
        assert.deepEqual(await dumpProjection(store), reference, `seed ${seed}`);
      });
    });

    it('pages history by cursor: every row once, newest first, bounded', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 16;
      const outcomes = outcomesOf(seed, 500);
      await withStore(context, async (store) => {
        await rebuildProjections(store, streamOf(outcomes), () => undefined);
        const user = 3;
        const orders = await collectPages((cursor) => store.history.ordersOfUser(user, { cursor, limit: 7 }));
        const expectedOrderIds = outcomes.flatMap((outcome) =>
          outcome.events.flatMap((event) =>
            event.ev === 'accepted' && event.user === user ? [event.id] : [],
          ),
        );
        assert.deepEqual(
          orders.map((order) => order.orderId),
          expectedOrderIds.reverse(),
        );

        // One fill per page puts a page boundary between the two fills of every self-trade.
        const selfTrades = outcomes.flatMap((outcome) =>
          outcome.events.filter(
            (event) => event.ev === 'trade' && event.takerUser === user && event.makerUser === user,
          ),
        );
        assert.ok(selfTrades.length > 0, `seed ${seed}: user ${user} trades with itself`);
        const fills = await collectPages((cursor) => store.history.tradesOfUser(user, { cursor, limit: 1 }));
        const expectedFills = outcomes.flatMap((outcome) =>
          outcome.events.flatMap((event) => {
            if (event.ev !== 'trade') return [];
            const roles: string[] = [];
            if (event.takerUser === user) roles.push(`${event.tradeId}:taker`);
            if (event.makerUser === user) roles.push(`${event.tradeId}:maker`);
            return roles;
          }),
        );
        const fillKeys = fills.map((fill) => `${fill.tradeId}:${fill.role}`);
        assert.deepEqual([...fillKeys].sort(), [...expectedFills].sort());
        assert.equal(new Set(fillKeys).size, fillKeys.length, 'no fill twice');
        assert.deepEqual(
          fills.map((fill) => fill.tradeId),
          [...fills.map((fill) => fill.tradeId)].sort((left, right) => right - left),
        );

        const ledger = await collectPages((cursor) => store.history.ledgerOfUser(user, { cursor, limit: 9 }));
        const balanceChanges = ledger.reduce((sum, entry) => sum + entry.amount, 0);
        assert.equal(balanceChanges, expectedLedgerSum(outcomes, user));

        const symbolTrades = await collectPages((cursor) =>
          store.history.tradesOfSymbol('AAA/USD', { cursor, limit: 11 }),
        );
        const expectedSymbolTrades = outcomes.flatMap((outcome) =>
          outcome.events.flatMap((event) =>
            event.ev === 'trade' && event.symbol === 'AAA/USD' ? [event.tradeId] : [],
          ),
        );
        assert.deepEqual(
          symbolTrades.map((trade) => trade.tradeId),
          expectedSymbolTrades.reverse(),
        );

        const firstOrder = orders[orders.length - 1];
        const events = await collectPages((cursor) =>
          store.history.eventsOfOrder(user, firstOrder.orderId, { cursor, limit: 1 }),
        );
        assert.equal(events[0].kind, 'accepted');

        const big = await store.history.tradesOfSymbol('AAA/USD', { limit: 1_000_000 });
        assert.ok(big.items.length <= 500);
        await assert.rejects(store.history.ordersOfUser(user, { limit: 0 }), { code: 'INVALID_QUERY' });
        await assert.rejects(store.history.ordersOfUser(user, { limit: 5, cursor: 'not-a-cursor' }), {
          code: 'INVALID_CURSOR',
        });
      });
    });

    it("sums every user's ledger to the engine's total balances, coupons included", {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 23;
      const { engine, outcomes } = engineFlow(seed, 3_000, startTsMs);
      const events = outcomes.flatMap((outcome) => outcome.events);
      const count = (kind: string) => events.filter((event) => event.ev === kind).length;
      for (const kind of ['trade', 'cancelled', 'amended', 'withdrawn', 'claimed', 'couponIssued'])
        assert.ok(count(kind) > 5, `seed ${seed}: the flow has ${kind} events (${count(kind)})`);
      await withStore(context, async (store) => {
        // Small batches, so coupons issued in one batch are used in later ones; and two projectors
        // taking turns, so each must reload the coupons the other one issued or used.
        const first = await store.openProjector({ batchOutcomesMax: 17 });
        const second = await store.openProjector({ batchOutcomesMax: 17 });
        const thirds = [1_000, 2_000, outcomes.length];
        await first.project(streamOf(outcomes.slice(0, thirds[0])));
        await second.project(streamOf(outcomes.slice(thirds[0], thirds[1])));
        await first.project(streamOf(outcomes.slice(thirds[1], thirds[2])));
        await first.close();
        await second.close();
        const sums = await store.database.query<{ user_id: Numeric; asset: string; total: Numeric }>(
          'SELECT user_id, asset, sum(amount) AS total FROM ledger_entries GROUP BY user_id, asset',
        );
        const ledgerTotals = sums
          .map((row) => `${row.user_id} ${row.asset} ${row.total}`)
          .filter((line) => !line.endsWith(' 0'))
          .sort();
        const engineTotals = [FEE_USER, issuerId, ...traderIds]
          .flatMap((user) =>
            engine
              .balances(user)
              .map((balance) => `${user} ${balance.asset} ${balance.available + balance.locked}`),
          )
          .filter((line) => !line.endsWith(' 0'))
          .sort();
        assert.deepEqual(ledgerTotals, engineTotals, `seed ${seed}`);

        const coupons = await store.database.query<{
          user_id: Numeric;
          offering_id: Numeric;
          uses_left: Numeric;
        }>('SELECT user_id, offering_id, uses_left FROM coupons ORDER BY user_id, offering_id');
        const engineCoupons = traderIds.flatMap((user) =>
          engine
            .couponsOf(user)
            .sort((left, right) => left.offering - right.offering)
            .map((coupon) => `${user} ${coupon.offering} ${coupon.usesLeft}`),
        );
        assert.deepEqual(
          coupons.map((row) => `${row.user_id} ${row.offering_id} ${row.uses_left}`),
          engineCoupons,
          `seed ${seed}`,
        );
        const uses = await store.database.query<{ spent: Numeric; used: Numeric; discounted: Numeric }>(
          `SELECT (SELECT sum(uses - uses_left) FROM coupons) AS spent,
                  (SELECT count(DISTINCT (trade_id, user_id)) FROM coupon_uses) AS used,
                  (SELECT count(*) FROM coupon_uses WHERE fee < full_fee) AS discounted`,
        );
        assert.ok(Number(uses[0].discounted) > 10, `seed ${seed}: coupons discounted fees`);
        assert.equal(Number(uses[0].used), Number(uses[0].spent), 'one use per coupon and fill');

        const claimEntries = await store.database.query<{ kind: string; offering_id: Numeric | null }>(
          `SELECT kind, offering_id FROM ledger WHERE kind IN ('claim', 'offeringProceeds', 'offeringDelivery')`,
        );
        assert.equal(claimEntries.length, 4 * count('claimed'));
        assert.ok(
          claimEntries.every((entry) => entry.offering_id !== null),
          'claims name their offering',
        );
      });
    });

    it('upserts candles by key and pages them by time range', { timeout: testTimeoutMs }, async (context) => {
      await withStore(context, async (store) => {
        const minuteMs = 60_000;
        // Market data's shape, through the sink adapter the candle writer uses.
        const sink = new SqlCandleSink(store.candles);
        const hugeQuoteVolume = '123456789012345678901';
        const candle = (minute: number, close: number) => ({
          symbol: 'AAA/USD',
          interval: '1m' as const,
          source: 'trades' as const,
          openMs: startTsMs + minute * minuteMs,
          closeMs: startTsMs + (minute + 1) * minuteMs,
          open: 100,
          high: Math.max(100, close),
          low: Math.min(100, close),
          close,
          volume: minute,
          quoteVolume: minute === 3 ? hugeQuoteVolume : String(minute * 100),
          trades: 1,
          closed: true,
        });
        await sink.write(Array.from({ length: 30 }, (_, minute) => candle(minute, 100 + minute)));
        await sink.write([candle(4, 7), candle(5, 8), candle(5, 9)]);
        // The quote feed's candle of the same symbol, interval and minute is another series.
        await sink.write([{ ...candle(4, 555), source: 'quotes' }]);
        const range = {
          symbol: 'AAA/USD',
          interval: '1m',
          source: 'trades',
          fromMs: startTsMs + 3 * minuteMs,
          toMs: startTsMs + 20 * minuteMs,
        };
        const candles = await collectPages((cursor) => store.candles.candles(range, { cursor, limit: 4 }));
        assert.deepEqual(
          candles.map((found) => found.close),
          [103, 7, 9, ...Array.from({ length: 14 }, (_, index) => 106 + index)],
        );
        assert.equal(candles[0].quoteVolume, hugeQuoteVolume);
        assert.equal(candles[0].closeTimeMs, startTsMs + 4 * minuteMs);
        const quoted = await store.candles.candles({ ...range, source: 'quotes' }, { limit: 10 });
        assert.deepEqual(
          quoted.items.map((found) => [found.openTimeMs, found.close, found.source]),
          [[startTsMs + 4 * minuteMs, 555, 'quotes']],
        );
        const other = await store.candles.candles({ ...range, interval: '1h' }, { limit: 10 });
        assert.deepEqual(other, { items: [], next: null });
      });
    });

    it('partitions trades and order events by day and drops old days', {
      timeout: testTimeoutMs,
    }, async (context) => {
      const seed = 17;
      const hourMs = 3_600_000;
      const outcomes = outcomesOf(seed, 300, 2 * hourMs);
      await withStore(context, async (store) => {
        await rebuildProjections(store, streamOf(outcomes), () => undefined, { batchOutcomesMax: 50 });
        const lastTsMs = outcomes[outcomes.length - 1].ts;
        const days = Math.floor(lastTsMs / partitionSpanMs) - Math.floor(startTsMs / partitionSpanMs) + 1;
        const partitions = await listPartitions(store.database);
        assert.equal(
          partitions.filter((partition) => partition.table === 'trades').length,
          days + 1,
          'one ahead',
        );
        const cutMs = startTsMs + 10 * partitionSpanMs;
        const dropped = await dropPartitionsBefore(store.database, cutMs);
        assert.ok(dropped.length >= 2 * 9, `dropped ${dropped.join(',')}`);
        const kept = await store.database.query<{ count: number }>('SELECT count(*) AS count FROM trades');
        const expected = outcomes
          .filter((outcome) => outcome.ts >= Math.floor(cutMs / partitionSpanMs) * partitionSpanMs)
          .flatMap((outcome) => outcome.events.filter((event) => event.ev === 'trade')).length;
        assert.equal(Number(kept[0].count), expected, `seed ${seed}`);
      });
    });
  });
}

async function checkpointOf(store: Store): Promise<number> {
  const rows = await store.database.query<{ seq: number }>(
    "SELECT seq FROM projection_checkpoints WHERE name = 'history'",
  );
  return Number(rows[0]?.seq ?? 0);
}

/** Projects from the start until the n-th transaction throws after writing its rows; then halts. */
async function crashingRun(store: Store, outcomes: CommandOutcome[], crashAtBatch: number) {
  let batches = 0;
  let crash: (() => void) | undefined;
  const crashed = new Promise<void>((resolve) => {
    crash = resolve;
  });
  const options: Partial<ProjectorOptions> = {
    batchOutcomesMax: 29,
    flushIntervalMs: 1,
    retryDelayMsMax: 5,
    beforeCommit: () => {
      batches += 1;
      if (batches < crashAtBatch) return;
      crash?.();
      throw new Error('injected crash before commit');
    },
  };
  const projector = await store.openProjector(options);
  for (const outcome of outcomes) projector.offer(outcome);
  await crashed;
  await projector.halt();
  return { committedSeq: projector.projectedSeq };
}

/** Resting orders and their remaining quantity after the stream, replayed from its events. */
function restingOrdersOf(outcomes: CommandOutcome[]): Array<[number, number]> {
  const resting = new Map<number, number>();
  for (const outcome of outcomes) {
    for (const event of outcome.events) {
      if (event.ev === 'rested' || event.ev === 'amended') resting.set(event.id, event.qty);
      else if (event.ev === 'cancelled') resting.delete(event.id);
      else if (event.ev === 'trade' && resting.has(event.maker)) {
        const left = resting.get(event.maker)! - event.qty;
        if (left === 0) resting.delete(event.maker);
        else resting.set(event.maker, left);
      }
    }
  }
  return [...resting.entries()].sort((left, right) => left[0] - right[0]);
}

/** Deposits minus withdrawals minus fees paid, for one user across assets. */
function expectedLedgerSum(outcomes: CommandOutcome[], user: number): number {
  let sum = 0;
  for (const outcome of outcomes) {
    for (const event of outcome.events) {
      if (event.ev === 'deposited' && event.user === user) sum += event.amount;
      if (event.ev === 'withdrawn' && event.user === user) sum -= event.amount;
      if (event.ev !== 'trade') continue;
      // Lot size 1: a buyer receives qty of base and pays qty * price of quote, a seller the reverse.
      const buyerLegs = event.qty - event.qty * event.price;
      const buyer = event.takerSide === 'buy' ? event.takerUser : event.makerUser;
      const seller = event.takerSide === 'buy' ? event.makerUser : event.takerUser;
      if (buyer === user) sum += buyerLegs;
      if (seller === user) sum -= buyerLegs;
      if (event.takerUser === user) sum -= event.takerFee;
      if (event.makerUser === user) sum -= event.makerFee;
    }
  }
  return sum;
}
