// Binance's private spot REST API (docs/BINANCE.md "Private API") over the gateway's services:
// every request is signed with an API key (src/gateway/api-key-auth.ts) and answered by the
// operations shared with the WebSocket API (private-ops.ts). Form bodies are kept as text in this
// plugin only, since the signature covers their exact bytes.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { authenticateApiKey, signedParamsOf } from '../gateway/api-key-auth.js';
import type { ApiKeyPermission } from '../store/ports.js';
import { type Params, PrivateOperations } from './private-ops.js';
import { binanceErrorOf } from './private-views.js';

/**
 * The routes in their own encapsulated scope (form bodies as text, Binance's error shape). The
 * gateway's authentication hook treats them as public: they authenticate here, after the body is
 * read, because the signature covers the body.
 */
export const binancePrivateRoutes: FastifyPluginAsync = async (app) => {
  const services = app.services;
  const operations = new PrivateOperations(services);
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, done) => done(null, body),
    );
    scope.setErrorHandler((thrown, request, reply) => {
      const error = binanceErrorOf(thrown);
      if (error.statusCode >= 500) request.log.error({ err: thrown }, 'binance request failed');
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      services.metrics.rejects.inc({ code: String(error.code) });
      return reply.code(error.statusCode).send(error.body());
    });

    const tags = ['binance'];
    const config = { auth: 'public' } as const;
    type Operation = (user: number, params: Params) => unknown;
    const routes: Array<
      [method: 'GET' | 'POST' | 'DELETE', url: string, ApiKeyPermission, Operation, string]
    > = [
      ['GET', '/api/v3/account', 'read', (user) => operations.account(user), 'Balances'],
      [
        'POST',
        '/api/v3/order',
        'trade',
        (user, params) => operations.place(user, params, false),
        'New order',
      ],
      [
        'POST',
        '/api/v3/order/test',
        'trade',
        (user, params) => operations.place(user, params, true),
        'Check a new order, place nothing',
      ],
      [
        'POST',
        '/api/v3/orderList/oco',
        'trade',
        (user, params) => operations.placeOco(user, params),
        'New OCO order list (a LIMIT_MAKER and a STOP_LOSS(_LIMIT) leg)',
      ],
      ['GET', '/api/v3/order', 'read', (user, params) => operations.order(user, params), 'One of my orders'],
      [
        'DELETE',
        '/api/v3/order',
        'trade',
        (user, params) => operations.cancel(user, params),
        'Cancel an order',
      ],
      [
        'GET',
        '/api/v3/openOrders',
        'read',
        (user, params) => operations.openOrders(user, params),
        'My open orders',
      ],
      [
        'DELETE',
        '/api/v3/openOrders',
        'trade',
        (user, params) => operations.cancelAll(user, params),
        'Cancel all my orders of a symbol',
      ],
      [
        'GET',
        '/api/v3/allOrders',
        'read',
        (user, params) => operations.allOrders(user, params),
        'My orders of a symbol, oldest first',
      ],
      [
        'GET',
        '/api/v3/myTrades',
        'read',
        (user, params) => operations.myTrades(user, params),
        'My trades of a symbol, oldest first',
      ],
    ];
    for (const [method, url, permission, operation, summary] of routes) {
      scope.route({
        method,
        url,
        config,
        schema: { tags, summary: `${summary} (Binance, signed)` },
        handler: async (request: FastifyRequest) => {
          const principal = await authenticateApiKey(request, services.apiKeyAuth, { permission });
          return operation(principal.userId, signedParamsOf(request));
        },
      });
    }
  });
};
