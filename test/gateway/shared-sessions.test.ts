// The SessionManager over a SessionEvents port it does not own (cluster mode), with a fake feed the
// test drives: ends are published, ends from elsewhere drop the cache and reach the listeners, the
// cache is not trusted while the feed is down, a resync empties it, a failed announcement is an
// error (except for a timeout), and a cached session is read from the store again at each touch.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/gateway/errors.js';
import { hashToken, SessionManager, type SessionOptions } from '../../src/gateway/sessions.js';
import {
  type SessionEndEvent,
  type SessionEvents,
  sharedUnavailable,
} from '../../src/gateway/shared-services.js';
import { MemorySessionStore } from './support/memory-store.js';

class FakeEvents implements SessionEvents {
  live = true;
  failing = false;
  readonly published: SessionEndEvent[] = [];
  private readonly listeners: Array<(event: SessionEndEvent) => void> = [];
  private readonly resyncs: Array<() => void> = [];

  async publish(event: SessionEndEvent): Promise<void> {
    if (this.failing) throw sharedUnavailable('the fake feed');
    this.published.push(event);
  }

  onEvent(listener: (event: SessionEndEvent) => void): void {
    this.listeners.push(listener);
  }

  onResync(listener: () => void): void {
    this.resyncs.push(listener);
  }

  deliver(event: SessionEndEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  resync(): void {
    for (const listener of this.resyncs) listener();
  }
}

const options: SessionOptions = {
  idleTimeoutMs: 10_000,
  absoluteTimeoutMs: 100_000,
  sessionsPerUserMax: 2,
  cacheEntriesMax: 10,
  touchIntervalMs: 1_000,
};

function setup() {
  const clock = { nowMs: 1_000_000, read: () => clock.nowMs };
  const store = new MemorySessionStore();
  const events = new FakeEvents();
  const sessions = new SessionManager(store, options, clock.read, { events });
  const ended: Array<[string, number, string]> = [];
  sessions.onEnded((tokenHash, userId, reason) => ended.push([tokenHash, userId, reason]));
  return { clock, store, events, sessions, ended };
}

describe('SessionManager with shared session events', () => {
  it('publishes every end: logout, logout-all and the session cap', async () => {
    const { clock, events, sessions } = setup();
    // A millisecond apart, so the oldest is the first (equal times would tie on the hash).
    const first = await sessions.create(3, 'a', 'ip');
    clock.nowMs += 1;
    const second = await sessions.create(3, 'a', 'ip');
    clock.nowMs += 1;
    const third = await sessions.create(3, 'a', 'ip');
    await sessions.end(third.session, 'logout');
    const count = await sessions.endAll(3);
    assert.equal(count, 1);
    assert.deepEqual(events.published, [
      { userId: 3, tokenHashes: [first.session.tokenHash], reason: 'sessionCap' },
      { userId: 3, tokenHashes: [third.session.tokenHash], reason: 'logout' },
      { userId: 3, tokenHashes: [second.session.tokenHash], reason: 'logoutAll' },
    ]);
    assert.equal(await sessions.endAll(3), 0);
    assert.equal(events.published.length, 3, 'nothing ended, nothing published');
  });

  it('drops a session ended elsewhere from the cache and tells the listeners', async () => {
    const { events, sessions, ended, store } = setup();
    const { token, session } = await sessions.create(4, 'a', 'ip');
    assert.ok(sessions.liveCached(session.tokenHash));
    await store.deleteSession(session.tokenHash);
    assert.ok(sessions.liveCached(session.tokenHash), 'still cached: the store alone is not watched');
    events.deliver({ userId: 4, tokenHashes: [session.tokenHash], reason: 'logoutAll' });
    assert.equal(sessions.liveCached(session.tokenHash), undefined);
    assert.deepEqual(ended, [[session.tokenHash, 4, 'logoutAll']]);
    assert.equal(await sessions.resolve(token), undefined);
  });

  it('reads the store on every lookup while the feed is down, and empties the cache at a resync', async () => {
    const { events, sessions, store } = setup();
    const { token, session } = await sessions.create(5, 'a', 'ip');
    events.live = false;
    assert.equal(sessions.liveCached(session.tokenHash), undefined, 'no cached answer while down');
    await store.deleteSession(session.tokenHash);
    assert.equal(await sessions.resolve(token), undefined, 'the store decides');
    const kept = await sessions.create(5, 'a', 'ip');
    let resynced = 0;
    sessions.onResync(() => {
      resynced += 1;
    });
    events.live = true;
    events.resync();
    assert.equal(resynced, 1);
    assert.equal(sessions.liveCached(kept.session.tokenHash), undefined, 'the cache starts empty');
    assert.equal((await sessions.resolve(kept.token))?.userId, 5);
    assert.ok(sessions.liveCached(kept.session.tokenHash), 'and fills again');
  });

  it('re-reads a cached session from the store when it is due for a touch', async () => {
    const { clock, sessions, store } = setup();
    const { token, session } = await sessions.create(6, 'a', 'ip');
    await store.deleteSession(session.tokenHash);
    assert.ok(await sessions.resolve(token), 'within the touch interval the cache answers');
    clock.nowMs += options.touchIntervalMs;
    assert.equal(await sessions.resolve(token), undefined, 'a missed end is noticed at the touch');
  });

  it('ends the session even when the announcement fails, and says so; a timeout is quiet', async () => {
    const { clock, events, sessions, store, ended } = setup();
    const { session } = await sessions.create(7, 'a', 'ip');
    events.failing = true;
    await assert.rejects(
      sessions.end(session, 'logout'),
      (error) => error instanceof GatewayError && error.code === 'SERVICE_UNAVAILABLE',
    );
    assert.equal(store.sessions.size, 0, 'ended in the store');
    assert.deepEqual(ended, [[session.tokenHash, 7, 'logout']], 'and on this gateway');
    const idle = await sessions.create(7, 'a', 'ip');
    clock.nowMs += options.idleTimeoutMs + 1;
    assert.equal(await sessions.resolve(idle.token), undefined, 'expiry does not fail on the feed');
    assert.equal(hashToken(idle.token), ended[1]?.[0]);
  });
});
