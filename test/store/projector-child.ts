// Child process for the kill -9 test: projects the first `offered` outcomes of a seeded stream of
// `count` into PostgreSQL in small batches, then waits to be killed (so a kill never comes after
// the end, however fast the machine). Arguments: databaseUrl schema seed count offered.
import { openStore } from '../../src/store/store.js';
import { silentLogger } from './backends.js';
import { crashStreamOptions, OutcomeStream } from './outcomes.js';

const [databaseUrl, schema, seedText, countText, offeredText] = process.argv.slice(2);
const store = await openStore({ databaseUrl, schema, logger: silentLogger });
const projector = await store.openProjector({ batchOutcomesMax: 25, flushIntervalMs: 1 });
const outcomes = new OutcomeStream({ ...crashStreamOptions, seed: Number(seedText) }).take(Number(countText));
const offered = Number(offeredText);
for (const outcome of outcomes.slice(0, offered)) projector.offer(outcome);
if (offered < outcomes.length) {
  // Held open until the parent's SIGKILL: the timer keeps the process alive.
  setInterval(() => undefined, 60_000);
} else {
  await projector.close();
  await store.close();
}
