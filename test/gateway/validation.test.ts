// REST and WebSocket share one validation path: the same TypeBox schema gives the same
// `{code, message, field}` whether Fastify's validator compiler or a WebSocket check runs it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GatewayError } from '../../src/gateway/errors.js';
import { PlaceBody } from '../../src/gateway/schemas.js';
import { compileCheck, validatorCompiler } from '../../src/gateway/validation.js';

const restCheck = validatorCompiler({
  schema: PlaceBody,
  method: 'POST',
  url: '/api/v1/orders',
  httpPart: 'body',
});
const socketCheck = compileCheck(PlaceBody, 'body');

function socketError(value: unknown): GatewayError {
  try {
    socketCheck(value);
  } catch (error) {
    assert.ok(error instanceof GatewayError);
    return error;
  }
  assert.fail('the WebSocket check accepted the value');
}

function restError(value: unknown): GatewayError {
  const result = restCheck(value) as { error?: unknown };
  assert.ok(result.error instanceof GatewayError, 'the REST check refused with a GatewayError');
  return result.error;
}

describe('one validation path', () => {
  const valid = { symbol: 'BTC-USD', side: 'buy', type: 'limit', price: '1', qty: '1' };

  it('accepts a valid body on both', () => {
    assert.deepEqual((restCheck(valid) as { value?: unknown }).value, valid);
    assert.deepEqual(socketCheck(valid), valid);
  });

  for (const [name, body, field] of [
    ['a missing field', { symbol: 'BTC-USD', side: 'buy', type: 'limit', price: '1' }, 'qty'],
    ['a wrong enum', { ...valid, side: 'hold' }, 'side'],
    ['an unexpected field', { ...valid, colour: 'red' }, 'colour'],
    ['a wrong type', { ...valid, postOnly: 'yes' }, 'postOnly'],
  ] as const) {
    it(`gives ${name} the same reply on both, naming ${field}`, () => {
      const rest = restError(body);
      const socket = socketError(body);
      assert.deepEqual(rest.body(), socket.body());
      assert.deepEqual([rest.statusCode, rest.code, rest.field], [400, 'VALIDATION_FAILED', field]);
      assert.match(rest.message, new RegExp(`^${field}: `));
    });
  }
});
