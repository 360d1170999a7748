// What the response schemas' serializer (fast-json-stringify, compiled by Fastify from the route's
// response schema) saves over JSON.stringify, for three replies the exchange sends most:
//   1. a place result with three fills (POST /api/v1/orders),
//   2. 100 open orders (GET /api/v1/orders?status=open),
//   3. a history page of 100 orders (GET /api/v1/history/orders).
// The serializer is taken from a Fastify route exactly as the gateway builds it (the same schemas
// from src/gateway/responses.ts); both sides serialize the same objects in alternating rounds, and
// the ratio is reported (the machine is shared, so absolute figures move; the ratio much less).
// Each pair of outputs is checked to parse to the same value first.
//
//   npm run build && node dist/bench/serializer.bench.js [--iterations N] [--rounds N] [--json]
import assert from 'node:assert/strict';
import type { TSchema } from '@sinclair/typebox';
import Fastify from 'fastify';
import { HistoryOrdersReply, OrdersReply, PlaceReply } from '../src/gateway/responses.js';
import { parseBenchOptions } from './lib/args.js';
import { formatCount } from './lib/report.js';

const options = parseBenchOptions('serializer', {
  iterations: {
    kind: 'integer',
    default: 10_000,
    minimum: 1,
    description: 'serializations per round and case',
  },
  rounds: {
    kind: 'integer',
    default: 7,
    minimum: 1,
    description: 'alternating rounds (the median is reported)',
  },
  json: { kind: 'flag', description: 'one JSON line on stdout' },
});
const log = options.json ? console.error : console.log;

/** The serializer Fastify compiles for a route answering 200 with `schema`. */
async function fastifySerializer(schema: TSchema): Promise<(value: unknown) => string> {
  const app = Fastify();
  let serializer: ((value: unknown) => string) | undefined;
  app.get('/', { schema: { response: { 200: schema } } }, async (_request, reply) => {
    serializer = reply.getSerializationFunction('200') as (value: unknown) => string;
    return reply.send([]);
  });
  await app.inject({ method: 'GET', url: '/' });
  await app.close();
  if (serializer === undefined) throw new Error('no serializer compiled');
  return serializer;
}

function placeResult(seq: number) {
  return {
    orderId: seq,
    clientOrderId: `bench-${seq}`,
    symbol: 'BTC-USDT',
    status: 'partiallyFilled',
    filledQty: '0.300',
    restingQty: '0.700',
    expiredQty: '0',
    fills: [0, 1, 2].map((fill) => ({
      tradeId: seq * 4 + fill,
      price: `5000${fill}.25`,
      qty: '0.100',
      fee: '0.00010000',
      feeAsset: 'BTC',
    })),
    seq,
    ts: 1_764_000_000_000 + seq,
  };
}

function openOrder(index: number) {
  return {
    orderId: 1_000 + index,
    clientOrderId: `c-${index}`,
    symbol: 'BTC-USDT',
    side: index % 2 === 0 ? 'buy' : 'sell',
    type: 'limit',
    tif: 'GTC',
    price: `${49_000 + index}.50`,
    qty: '1.000',
    filledQty: '0.250',
    remainingQty: '0.750',
    status: 'open',
    createdAtMs: 1_764_000_000_000 + index,
    updatedAtMs: 1_764_000_000_500 + index,
  };
}

function historyOrder(index: number) {
  return {
    orderId: 5_000 + index,
    symbol: 'ETH-USDT',
    side: index % 2 === 0 ? 'buy' : 'sell',
    type: index % 5 === 0 ? 'market' : 'limit',
    tif: index % 5 === 0 ? 'IOC' : 'GTC',
    price: index % 5 === 0 ? null : `${3_000 + index}.10`,
    qty: '2.0000',
    filledQty: '2.0000',
    remainingQty: '0',
    status: 'filled',
    reason: null,
    createdAtMs: 1_764_000_000_000 + index,
    updatedAtMs: 1_764_000_001_000 + index,
  };
}

interface Case {
  name: string;
  schema: TSchema;
  values: unknown[];
}

const cases: Case[] = [
  { name: 'place result (3 fills)', schema: PlaceReply, values: [1, 2, 3, 4].map(placeResult) },
  {
    name: '100 open orders',
    schema: OrdersReply,
    values: [Array.from({ length: 100 }, (_, index) => openOrder(index))],
  },
  {
    name: 'history page (100 orders)',
    schema: HistoryOrdersReply,
    values: [{ items: Array.from({ length: 100 }, (_, index) => historyOrder(index)), next: 'MTIzNDU2' }],
  },
];

/** Nanoseconds per serialization over `iterations` calls; the length sum keeps the work observable. */
function timePerCall(serialize: (value: unknown) => string, values: unknown[], iterations: number): number {
  let length = 0;
  const started = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) length += serialize(values[index % values.length]).length;
  const elapsed = Number(process.hrtime.bigint() - started);
  if (length === 0) throw new Error('nothing serialized');
  return elapsed / iterations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const results: Array<{ name: string; stringifyNs: number; schemaNs: number; speedup: number }> = [];
for (const benchCase of cases) {
  const schemaSerialize = await fastifySerializer(benchCase.schema);
  const plain = (value: unknown) => JSON.stringify(value);
  for (const value of benchCase.values)
    assert.deepEqual(
      JSON.parse(schemaSerialize(value)),
      JSON.parse(plain(value)),
      `${benchCase.name}: same JSON`,
    );
  // Warm both paths up before measuring.
  timePerCall(schemaSerialize, benchCase.values, options.iterations);
  timePerCall(plain, benchCase.values, options.iterations);
  const schemaRounds: number[] = [];
  const plainRounds: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    plainRounds.push(timePerCall(plain, benchCase.values, options.iterations));
    schemaRounds.push(timePerCall(schemaSerialize, benchCase.values, options.iterations));
  }
  const stringifyNs = median(plainRounds);
  const schemaNs = median(schemaRounds);
  results.push({ name: benchCase.name, stringifyNs, schemaNs, speedup: stringifyNs / schemaNs });
}

log('reply                        JSON.stringify      schema serializer   ratio');
for (const result of results) {
  log(
    `${result.name.padEnd(28)} ${formatCount(1e9 / result.stringifyNs).padStart(8)}/s ${(result.stringifyNs / 1e3).toFixed(2).padStart(7)} us` +
      `  ${formatCount(1e9 / result.schemaNs).padStart(8)}/s ${(result.schemaNs / 1e3).toFixed(2).padStart(7)} us` +
      `  ${result.speedup.toFixed(2)}x`,
  );
}
if (options.json) console.log(JSON.stringify({ bench: 'serializer', results }));
