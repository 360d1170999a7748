// The CandleSink contract (test/marketdata/candle-sink.contract.ts) against market data's in-memory
// sink and the store's SqlCandleSink on PGlite and PostgreSQL (skipped loudly when absent, failing
// under CI).
import { after } from 'node:test';
import { MemoryCandleSink } from '../../src/marketdata/candle-sink.js';
import { SqlCandleSink } from '../../src/store/candle-sink.js';
import {
  type CandleSinkFixture,
  candleSinkContract,
  contractStartMs,
  contractSymbol,
  type StoredCandle,
} from '../marketdata/candle-sink.contract.js';
import { type Backend, pgliteBackend, postgresBackend, uniqueSchema } from './backends.js';

candleSinkContract('MemoryCandleSink', async () => {
  const sink = new MemoryCandleSink();
  return {
    sink,
    stored: async (source) =>
      [...sink.candles.values()]
        .filter(
          (candle) =>
            candle.symbol === contractSymbol && candle.interval === '1m' && candle.source === source,
        )
        .sort((left, right) => left.openMs - right.openMs)
        .map((candle): StoredCandle => [candle.openMs, candle.close, candle.quoteVolume]),
    close: async () => {},
  };
});

function sqlFixture(backend: Backend): () => Promise<CandleSinkFixture | undefined> {
  let checked: Promise<boolean> | undefined;
  return async () => {
    checked ??= backend.unavailable().then((reason) => {
      if (reason === undefined) return true;
      if (process.env.CI === 'true') throw new Error(reason);
      process.stderr.write(`\n*** SKIPPING ${backend.name} CandleSink contract: ${reason}\n\n`);
      return false;
    });
    if (!(await checked)) return undefined;
    const schema = uniqueSchema('candle_sink');
    const store = await backend.openStore(schema);
    return {
      sink: new SqlCandleSink(store.candles),
      stored: async (source) => {
        const range = {
          symbol: contractSymbol,
          interval: '1m',
          source,
          fromMs: contractStartMs,
          toMs: contractStartMs + 24 * 3_600_000,
        };
        const page = await store.candles.candles(range, { limit: 100 });
        return page.items.map(
          (candle): StoredCandle => [candle.openTimeMs, candle.close, candle.quoteVolume],
        );
      },
      close: async () => {
        await store.close();
        await backend.dropSchema(schema);
      },
    };
  };
}

for (const backend of [pgliteBackend(), postgresBackend()]) {
  candleSinkContract(`SqlCandleSink on ${backend.name}`, sqlFixture(backend));
  after(() => backend.close());
}
