// Child process for the kill -9 test: projects a seeded outcome stream into PostgreSQL in small
// batches until it is killed. Arguments: databaseUrl schema seed count.
import { openStore } from '../../src/store/store.js';
import { silentLogger } from './backends.js';
import { crashStreamOptions, OutcomeStream } from './outcomes.js';

const [databaseUrl, schema, seedText, countText] = process.argv.slice(2);
const store = await openStore({ databaseUrl, schema, logger: silentLogger });
const projector = await store.openProjector({ batchOutcomesMax: 25, flushIntervalMs: 1 });
const outcomes = new OutcomeStream({ ...crashStreamOptions, seed: Number(seedText) }).take(Number(countText));
for (const outcome of outcomes) projector.offer(outcome);
await projector.close();
await store.close();
