// The contracts of the store's ports (src/store/ports.ts) as one suite each, run against the real
// adapters (SqlUserStore and SqlSessionStore on PGlite and PostgreSQL) and every fake that stands in
// for them in tests (test/gateway/support/memory-store.ts): a fake that passes behaves as the
// product does where a test relies on it (ports.contract.test.ts runs them all).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreError } from '../../src/store/errors.js';
import type { SessionRecord, SessionStore, UserStore } from '../../src/store/ports.js';

/** A store under test, with two users that exist in it (sessions may need their user to exist). */
export interface SessionStoreFixture {
  store: SessionStore;
  userIds: [number, number];
  close(): Promise<void>;
}

export interface UserStoreFixture {
  store: UserStore;
  close(): Promise<void>;
}

type Opener<Fixture> = () => Promise<Fixture | undefined>;

async function withFixture<Fixture extends { close(): Promise<void> }>(
  open: Opener<Fixture>,
  run: (fixture: Fixture) => Promise<void>,
): Promise<void> {
  const fixture = await open();
  if (fixture === undefined) return;
  try {
    await run(fixture);
  } finally {
    await fixture.close();
  }
}

function session(tokenHash: string, userId: number, createdAtMs: number): SessionRecord {
  return { tokenHash, userId, device: 'contract', ip: '192.0.2.1', createdAtMs, lastSeenAtMs: createdAtMs };
}

/** `open` resolves undefined when the adapter cannot run here (it says why itself). */
export function sessionStoreContract(name: string, open: Opener<SessionStoreFixture>): void {
  describe(`SessionStore contract: ${name}`, () => {
    it('finds a created session by token hash, as a copy, and nothing for an unknown hash', async () => {
      await withFixture(open, async ({ store, userIds: [user] }) => {
        const created = session('aa', user, 10);
        await store.createSession(created);
        const found = await store.findSession('aa');
        assert.deepEqual(found, created);
        assert.ok(found !== undefined);
        found.lastSeenAtMs = 999;
        assert.equal((await store.findSession('aa'))?.lastSeenAtMs, 10);
        assert.equal(await store.findSession('zz'), undefined);
      });
    });

    it('refuses a second session with the same token hash and keeps the first', async () => {
      await withFixture(open, async ({ store, userIds: [user, other] }) => {
        await store.createSession(session('aa', user, 10));
        await assert.rejects(store.createSession(session('aa', other, 20)));
        assert.deepEqual(await store.findSession('aa'), session('aa', user, 10));
      });
    });

    it('moves last-seen forward only, and a touch of an unknown hash changes nothing', async () => {
      await withFixture(open, async ({ store, userIds: [user] }) => {
        await store.createSession(session('aa', user, 10));
        await store.touchSession('aa', 50);
        await store.touchSession('aa', 40);
        assert.equal((await store.findSession('aa'))?.lastSeenAtMs, 50);
        await store.touchSession('zz', 60);
        assert.equal(await store.findSession('zz'), undefined);
      });
    });

    it("lists a user's sessions oldest first (ties by token hash), and only theirs", async () => {
      await withFixture(open, async ({ store, userIds: [user, other] }) => {
        await store.createSession(session('cc', user, 30));
        await store.createSession(session('bb', user, 10));
        await store.createSession(session('ab', user, 30));
        await store.createSession(session('dd', other, 5));
        const listed = await store.listSessions(user);
        assert.deepEqual(
          listed.map((found) => found.tokenHash),
          ['bb', 'ab', 'cc'],
        );
        assert.deepEqual(await store.listSessions(other), [session('dd', other, 5)]);
      });
    });

    it('deletes one session, or every session of a user returning their hashes sorted', async () => {
      await withFixture(open, async ({ store, userIds: [user, other] }) => {
        for (const [hash, createdAtMs] of [
          ['cc', 1],
          ['aa', 2],
          ['bb', 3],
        ] as const)
          await store.createSession(session(hash, user, createdAtMs));
        await store.createSession(session('dd', other, 4));
        await store.deleteSession('bb');
        await store.deleteSession('zz');
        assert.equal(await store.findSession('bb'), undefined);
        assert.deepEqual(await store.deleteSessionsOfUser(user), ['aa', 'cc']);
        assert.deepEqual(await store.listSessions(user), []);
        assert.deepEqual(await store.deleteSessionsOfUser(user), []);
        assert.equal((await store.findSession('dd'))?.userId, other);
      });
    });
  });
}

export function userStoreContract(name: string, open: Opener<UserStoreFixture>): void {
  describe(`UserStore contract: ${name}`, () => {
    it('numbers users from 1 and finds them by id and by name in any letter case', async () => {
      await withFixture(open, async ({ store }) => {
        const alice = await store.createUser('Alice', 'hash-a', false, 1_000);
        const bob = await store.createUser('bob', 'hash-b', true, 2_000);
        assert.deepEqual(alice, {
          id: 1,
          username: 'Alice',
          passwordHash: 'hash-a',
          isAdmin: false,
          createdAtMs: 1_000,
        });
        assert.equal(bob.id, 2);
        assert.deepEqual(await store.findUserByName('aLiCe'), alice);
        assert.deepEqual(await store.findUserById(2), bob);
        assert.equal(await store.findUserById(3), undefined);
        assert.equal(await store.findUserByName('carol'), undefined);
        assert.equal(await store.countUsers(), 2);
      });
    });

    it('refuses a name taken in any letter case with USERNAME_TAKEN and adds nobody', async () => {
      await withFixture(open, async ({ store }) => {
        await store.createUser('Alice', 'hash-a', false, 1_000);
        await assert.rejects(
          store.createUser('ALICE', 'x', false, 3_000),
          (error: unknown) => error instanceof StoreError && error.code === 'USERNAME_TAKEN',
        );
        assert.equal(await store.countUsers(), 1);
        assert.equal((await store.findUserByName('alice'))?.passwordHash, 'hash-a');
      });
    });
  });
}
