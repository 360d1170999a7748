// Run-time invariants (src/core/assert.ts): the check itself, the engine's money paths tripping it
// on a corrupted state (reached through a test-only subclass), and the journal sequencer treating
// the throw as fatal (ENGINE_FAILED) instead of acknowledging more commands.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { EngineAssertionError, assert as engineAssert } from '../../src/core/assert.js';
import { lockedSlot } from '../../src/core/book.js';
import { Engine } from '../../src/core/engine.js';
import type { EngineEvent } from '../../src/core/types.js';
import { openSequencer } from '../../src/journal/durable.js';
import type { JournalError } from '../../src/journal/errors.js';
import { temporaryDirectory } from '../journal/helpers.js';

/** The test-only door: moves a user's locked balance without the engine's bookkeeping. */
class CorruptibleEngine extends Engine {
  corruptLocked(user: number, asset: string, delta: number): void {
    const account = this.accounts.get(user)!;
    account.balances[lockedSlot(this.assetIndexes.get(asset)!)] += delta;
  }
}

function market(): CorruptibleEngine {
  const engine = new CorruptibleEngine();
  const added = engine.apply({
    op: 'symbol',
    symbol: 'BTC-USD',
    base: 'BTC',
    quote: 'USD',
    lotSize: 10,
    tickSize: 1,
    makerFeeBps: 10,
    takerFeeBps: 20,
  });
  assert.equal(added[0].ev, 'symbolAdded');
  for (const user of [1, 2]) {
    engine.apply({ op: 'deposit', user, asset: 'BTC', amount: 1_000 });
    engine.apply({ op: 'deposit', user, asset: 'USD', amount: 100_000 });
  }
  return engine;
}

function kinds(events: readonly EngineEvent[]): string[] {
  return events.map((event) => event.ev);
}

describe('assert', () => {
  it('passes silently and throws EngineAssertionError with the message and a stable code', () => {
    engineAssert(true, 'never shown');
    assert.throws(
      () => engineAssert(1 > 2, 'one is not above two'),
      (error: unknown) =>
        error instanceof EngineAssertionError &&
        error.message === 'one is not above two' &&
        error.code === 'ENGINE_ASSERTION' &&
        error.name === 'EngineAssertionError',
    );
  });

  it('an intact state never trips it: a fill, a cancel and an amend go through', () => {
    const engine = market();
    engine.apply({
      op: 'place',
      user: 1,
      id: 1,
      symbol: 'BTC-USD',
      side: 'sell',
      type: 'limit',
      qty: 10,
      price: 100,
    });
    const events = engine.apply({
      op: 'place',
      user: 2,
      id: 2,
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      qty: 4,
      price: 105,
    });
    assert.deepEqual(kinds(events), ['accepted', 'trade']);
    assert.deepEqual(kinds(engine.apply({ op: 'amend', user: 1, id: 1, qty: 3 })), ['amended']);
    assert.deepEqual(kinds(engine.apply({ op: 'cancel', user: 1, id: 1 })), ['cancelled']);
    engine.validateInternalState();
  });

  it('a fill against a maker whose locked base was corrupted throws', () => {
    const engine = market();
    engine.apply({
      op: 'place',
      user: 1,
      id: 1,
      symbol: 'BTC-USD',
      side: 'sell',
      type: 'limit',
      qty: 10,
      price: 100,
    });
    engine.corruptLocked(1, 'BTC', -50);
    assert.throws(
      () =>
        engine.apply({
          op: 'place',
          user: 2,
          id: 2,
          symbol: 'BTC-USD',
          side: 'buy',
          type: 'limit',
          qty: 10,
          price: 100,
        }),
      (error: unknown) =>
        error instanceof EngineAssertionError && /^fill: a debit went below zero/.test(error.message),
    );
  });

  it('a sell taker whose maker lost its locked quote throws', () => {
    const engine = market();
    engine.apply({
      op: 'place',
      user: 1,
      id: 1,
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      qty: 10,
      price: 100,
    });
    engine.corruptLocked(1, 'USD', -1);
    assert.throws(
      () =>
        engine.apply({
          op: 'place',
          user: 2,
          id: 2,
          symbol: 'BTC-USD',
          side: 'sell',
          type: 'limit',
          qty: 10,
          price: 100,
        }),
      (error: unknown) =>
        error instanceof EngineAssertionError && /^fill: a debit went below zero/.test(error.message),
    );
  });

  it('releasing more than is locked throws (cancel of a corrupted order)', () => {
    const engine = market();
    engine.apply({
      op: 'place',
      user: 1,
      id: 1,
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      qty: 10,
      price: 100,
    });
    engine.corruptLocked(1, 'USD', -1);
    assert.throws(
      () => engine.apply({ op: 'cancel', user: 1, id: 1 }),
      (error: unknown) => error instanceof EngineAssertionError && /^release:/.test(error.message),
    );
  });

  it('the journal sequencer stops on it: ENGINE_FAILED, fatal once, nothing acknowledged after', async () => {
    const directory = temporaryDirectory('engine-assertion');
    const engines = { create: () => market(), restore: () => market() };
    const fatal: JournalError[] = [];
    const { sequencer, recovered } = await openSequencer({
      dataDir: directory.path,
      engines,
      logger: pino({ level: 'silent' }),
      onFatal: (error) => fatal.push(error),
    });
    const place = {
      op: 'place',
      user: 1,
      id: 1,
      symbol: 'BTC-USD',
      side: 'sell',
      type: 'limit',
      qty: 10,
      price: 100,
    };
    assert.equal((await sequencer.submit(place as never)).seq, 1);
    (recovered.engine as CorruptibleEngine).corruptLocked(1, 'BTC', -50);
    const taker = {
      op: 'place',
      user: 2,
      id: 2,
      symbol: 'BTC-USD',
      side: 'buy',
      type: 'limit',
      qty: 10,
      price: 100,
    };
    await assert.rejects(sequencer.submit(taker as never), (error: JournalError) => {
      return error.code === 'ENGINE_FAILED' && error.cause instanceof EngineAssertionError;
    });
    await assert.rejects(
      sequencer.submit({ op: 'deposit', user: 3, asset: 'BTC', amount: 1 } as never),
      (error: JournalError) => error.code === 'ENGINE_FAILED',
    );
    assert.equal(fatal.length, 1);
    assert.equal(fatal[0].code, 'ENGINE_FAILED');
    await sequencer.close();
    directory.remove();
  });
});
