// Every REST operation in the OpenAPI document (/docs/json, from @fastify/swagger) declares its
// success and error response schemas: a route without one would be serialized by JSON.stringify
// and published without a reply shape. The Binance-compatible routes (/api/v3, docs/BINANCE.md)
// answer Binance's shapes, errors included (`{code: -1022, msg}`), checked by the Binance and CCXT
// tests: Hoga's error schema would garble them, so they are not held to this rule.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestExchange, type TestExchange } from './support/exchange.js';

const binancePaths = /^\/api\/v3\//;

interface Operation {
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}

describe('the OpenAPI document', () => {
  let exchange: TestExchange;
  before(async () => {
    exchange = await startTestExchange();
  });
  after(() => exchange.close());

  it('gives every operation a success and an error response schema', async () => {
    const reply = await exchange.api.call('GET', '/docs/json');
    assert.equal(reply.status, 200);
    const paths = reply.body.paths as Record<string, Record<string, Operation>>;
    const operations = Object.entries(paths)
      .filter(([path]) => !binancePaths.test(path))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({
          name: `${method.toUpperCase()} ${path}`,
          operation,
        })),
      );
    assert.ok(operations.length >= 40, `only ${operations.length} operations`);
    const missing: string[] = [];
    for (const { name, operation } of operations) {
      const responses = operation.responses ?? {};
      const schemaOf = (status: string) => responses[status]?.content?.['application/json']?.schema;
      const success = Object.keys(responses).find((status) => /^2\d\d$/.test(status));
      if (success === undefined || schemaOf(success) === undefined) missing.push(`${name}: success`);
      if (schemaOf('4XX') === undefined && schemaOf('4xx') === undefined) missing.push(`${name}: 4xx`);
    }
    assert.deepEqual(missing, []);
  });
});
