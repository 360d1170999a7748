// Store errors become replies with their code and a readable message; a GatewayError that happens
// to carry a store code (the register route's own USERNAME_TAKEN) is never rewritten.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fromStoreError, GatewayError } from '../../src/gateway/errors.js';
import { StoreError } from '../../src/store/errors.js';

it('leaves a GatewayError with a store code as it is', () => {
  const taken = new GatewayError('USERNAME_TAKEN', 'username already taken', 'username');
  assert.equal(fromStoreError(taken), undefined);
});

it('gives a store USERNAME_TAKEN a sentence, not the bare name', () => {
  const reply = fromStoreError(new StoreError('USERNAME_TAKEN', 'alice'));
  assert.deepEqual(reply?.body(), {
    code: 'USERNAME_TAKEN',
    message: 'username already taken',
    field: 'username',
  });
});

it('keeps the detail after the code, also across the read-model thread (class name prefixed)', () => {
  const crossed = Object.assign(
    new Error('StoreError: INVALID_CURSOR: cursor is not one this server issued'),
    {
      code: 'INVALID_CURSOR',
    },
  );
  assert.equal(fromStoreError(crossed)?.message, 'cursor is not one this server issued');
  const bare = Object.assign(new Error('bad cursor'), { code: 'INVALID_CURSOR' });
  assert.equal(fromStoreError(bare)?.message, 'bad cursor');
});
