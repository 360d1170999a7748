// The CommandSequencer port's contract (src/ports.ts), one suite run against the journal's Sequencer
// and every fake that stands in for it in tests (sequencer.contract.test.ts). What the gateway
// relies on: consecutive sequence numbers in submission order, a never-decreasing timestamp stamped
// on the command, a place without id gets its sequence as id, every listener has seen an outcome
// before its submit resolves, outcomes keep their events, a full queue refuses with QUEUE_FULL and
// applies nothing, and a closed sequencer refuses.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Command } from '../../src/core/types.js';
import { type CommandOutcome, type CommandSequencer, QUEUE_FULL } from '../../src/ports.js';

export interface SequencerFixture {
  /** Over the real engine (src/core), with nothing applied yet. */
  sequencer: CommandSequencer;
  /**
   * Brings the sequencer to where its next submit must be refused as a full queue; the returned
   * function undoes that (and waits for whatever it queued to complete).
   */
  saturate(): () => Promise<void>;
  /** Closes the sequencer and removes what it wrote. */
  close(): Promise<void>;
  /** Removes what it wrote, once the test closed the sequencer itself. */
  removeAfterClose(): void;
}

const listing: Command = {
  op: 'symbol',
  symbol: 'BTC-USD',
  base: 'BTC',
  quote: 'USD',
  lotSize: 1,
  tickSize: 1,
  makerFeeBps: 0,
  takerFeeBps: 0,
} as Command;

function deposit(user: number, amount: number): Command {
  return { op: 'deposit', user, asset: 'USD', amount };
}

function placeWithoutId(user: number, price: number): Command {
  return {
    op: 'place',
    user,
    symbol: 'BTC-USD',
    side: 'buy',
    type: 'limit',
    price,
    qty: 1,
  } as unknown as Command;
}

function isQueueFull(error: unknown): boolean {
  return (error as { code?: unknown }).code === QUEUE_FULL;
}

async function withFixture(
  open: () => Promise<SequencerFixture>,
  run: (fixture: SequencerFixture) => Promise<void>,
) {
  const fixture = await open();
  try {
    await run(fixture);
  } finally {
    await fixture.close();
  }
}

export function sequencerContract(name: string, open: () => Promise<SequencerFixture>): void {
  describe(`CommandSequencer contract: ${name}`, () => {
    it('numbers commands from 1 in submission order and stamps a never-decreasing ts on each', async () => {
      await withFixture(open, async ({ sequencer }) => {
        assert.deepEqual([sequencer.lastSeq, sequencer.queueDepth], [0, 0]);
        const outcomes = await Promise.all(
          [listing, deposit(1, 500), deposit(2, 700)].map((command) => sequencer.submit(command)),
        );
        assert.deepEqual(
          outcomes.map((outcome) => outcome.seq),
          [1, 2, 3],
        );
        assert.deepEqual(
          outcomes.map((outcome) => outcome.command.op),
          ['symbol', 'deposit', 'deposit'],
        );
        for (const [at, outcome] of outcomes.entries()) {
          assert.equal(outcome.command.ts, outcome.ts);
          if (at > 0) assert.ok(outcome.ts >= outcomes[at - 1].ts);
        }
        assert.deepEqual([sequencer.lastSeq, sequencer.queueDepth], [3, 0]);
      });
    });

    it('gives a place without id its sequence number, and the engine applied it', async () => {
      await withFixture(open, async ({ sequencer }) => {
        await sequencer.submit(listing);
        await sequencer.submit(deposit(1, 1_000));
        const placed = await sequencer.submit(placeWithoutId(1, 10));
        assert.equal((placed.command as { id?: number }).id, placed.seq);
        assert.ok(
          placed.events.some((event) => event.ev === 'accepted'),
          JSON.stringify(placed.events),
        );
      });
    });

    it('shows every listener each outcome, in order and not replaying, before submit resolves', async () => {
      await withFixture(open, async ({ sequencer }) => {
        const first: Array<[number, boolean]> = [];
        const second: number[] = [];
        sequencer.onApplied((outcome, replaying) => first.push([outcome.seq, replaying]));
        sequencer.onApplied((outcome) => second.push(outcome.seq));
        const outcome = await sequencer.submit(listing);
        assert.deepEqual(first, [[outcome.seq, false]]);
        await Promise.all([deposit(1, 1), deposit(2, 2)].map((command) => sequencer.submit(command)));
        assert.deepEqual(first, [
          [1, false],
          [2, false],
          [3, false],
        ]);
        assert.deepEqual(second, [1, 2, 3]);
      });
    });

    it("keeps an outcome's events when later commands run (they are not the engine's reused buffer)", async () => {
      await withFixture(open, async ({ sequencer }) => {
        await sequencer.submit(listing);
        const funded = await sequencer.submit(deposit(1, 1_000));
        const copy = JSON.stringify(funded.events);
        const seen: CommandOutcome[] = [];
        sequencer.onApplied((outcome) => seen.push(outcome));
        await sequencer.submit(deposit(2, 5));
        await sequencer.submit(placeWithoutId(1, 10));
        assert.equal(JSON.stringify(funded.events), copy);
        assert.notEqual(JSON.stringify(seen[0].events), JSON.stringify(seen[1].events));
      });
    });

    it('refuses a command at a full queue with QUEUE_FULL, applies nothing, and accepts again after', async () => {
      await withFixture(open, async (fixture) => {
        const { sequencer } = fixture;
        await sequencer.submit(listing);
        const seen: number[] = [];
        sequencer.onApplied((outcome) => seen.push(outcome.seq));
        const release = fixture.saturate();
        await assert.rejects(sequencer.submit(deposit(9, 1)), isQueueFull);
        await release();
        const applied = seen.length;
        const after = await sequencer.submit(deposit(9, 1));
        assert.equal(after.seq, sequencer.lastSeq);
        assert.equal(seen.length, applied + 1);
        assert.equal(seen.at(-1), after.seq);
        assert.equal(after.seq, 2 + applied);
      });
    });

    it('refuses commands once closed', async () => {
      const fixture = await open();
      try {
        await fixture.sequencer.submit(listing);
        await fixture.sequencer.close();
        await assert.rejects(fixture.sequencer.submit(deposit(1, 1)));
        assert.equal(fixture.sequencer.lastSeq, 1);
      } finally {
        fixture.removeAfterClose();
      }
    });
  });
}
