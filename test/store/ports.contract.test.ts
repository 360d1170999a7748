// The store ports' contracts (ports.contract.ts) against every adapter and every fake: SQL on
// PGlite, SQL on PostgreSQL (skipped loudly when absent, failing under CI), and the in-memory
// session store the gateway's unit tests use.
import { after } from 'node:test';
import { MemorySessionStore } from '../gateway/support/memory-store.js';
import { type Backend, pgliteBackend, postgresBackend, uniqueSchema } from './backends.js';
import { sessionStoreContract, userStoreContract } from './ports.contract.js';

/** Whether the backend runs here; when it does not, says so once (and fails under CI). */
function availability(backend: Backend): () => Promise<boolean> {
  let checked: Promise<boolean> | undefined;
  return () => {
    checked ??= backend.unavailable().then((reason) => {
      if (reason === undefined) return true;
      if (process.env.CI === 'true') throw new Error(reason);
      process.stderr.write(`\n*** SKIPPING ${backend.name} port contracts: ${reason}\n\n`);
      return false;
    });
    return checked;
  };
}

/** A fresh schema on the backend with two users in it, dropped on close. */
async function openSchema(backend: Backend) {
  const schema = uniqueSchema('ports');
  const store = await backend.openStore(schema);
  return {
    store,
    close: async () => {
      await store.close();
      await backend.dropSchema(schema);
    },
  };
}

for (const backend of [pgliteBackend(), postgresBackend()]) {
  const available = availability(backend);
  sessionStoreContract(`SqlSessionStore on ${backend.name}`, async () => {
    if (!(await available())) return undefined;
    const { store, close } = await openSchema(backend);
    const first = await store.users.createUser('contract-a', 'h', false, 0);
    const second = await store.users.createUser('contract-b', 'h', false, 0);
    return { store: store.sessions, userIds: [first.id, second.id], close };
  });
  userStoreContract(`SqlUserStore on ${backend.name}`, async () => {
    if (!(await available())) return undefined;
    const { store, close } = await openSchema(backend);
    return { store: store.users, close };
  });
  after(() => backend.close());
}

sessionStoreContract('MemorySessionStore (test fake)', async () => ({
  store: new MemorySessionStore(),
  userIds: [1, 2],
  close: async () => {},
}));
