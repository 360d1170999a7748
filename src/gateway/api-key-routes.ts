// `/api/v1/api-keys`: a logged-in user creates, lists and revokes API keys (docs/API.md "API
// keys"). Session only: a key can never manage keys, so a leaked key cannot mint or keep others.
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { ipAllowlistMax, labelLengthMax } from './api-keys.js';
import { authenticate, type GatewayContext } from './context.js';

const CreateApiKeyBody = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: labelLengthMax }),
    permissions: Type.Optional(
      Type.Array(Type.Union([Type.Literal('read'), Type.Literal('trade')]), { minItems: 1, maxItems: 2 }),
    ),
    ipAllowlist: Type.Optional(
      Type.Array(Type.String({ minLength: 2, maxLength: 64 }), { maxItems: ipAllowlistMax }),
    ),
  },
  { additionalProperties: false },
);
type CreateApiKeyBody = Static<typeof CreateApiKeyBody>;

const KeyIdParams = Type.Object({ keyId: Type.String({ minLength: 1, maxLength: 128 }) });
type KeyIdParams = Static<typeof KeyIdParams>;

export function registerApiKeyRoutes(app: FastifyInstance, context: GatewayContext): void {
  const tags = ['api-keys'];
  app.post<{ Body: CreateApiKeyBody }>(
    '/api/v1/api-keys',
    {
      schema: {
        tags,
        body: CreateApiKeyBody,
        summary: 'Create an API key; the reply is the only time its secret is shown',
      },
    },
    async (request, reply) => {
      const { session } = await authenticate(context, request);
      const created = await context.apiKeys.create(session.userId, request.body);
      const line = {
        event: 'apiKeyCreated',
        userId: session.userId,
        keyId: created.keyId,
        permissions: created.permissions,
        ip: request.ip,
        reqId: request.id,
      };
      context.audit.info(line, 'api key created');
      context.metrics.audit.inc({ event: 'apiKeyCreated' });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/api-keys',
    { schema: { tags, summary: 'My API keys (never their secrets)' } },
    async (request) => {
      const { session } = await authenticate(context, request);
      return context.apiKeys.list(session.userId);
    },
  );

  app.delete<{ Params: KeyIdParams }>(
    '/api/v1/api-keys/:keyId',
    { schema: { tags, params: KeyIdParams, summary: 'Revoke one of my API keys (its WebSockets close)' } },
    async (request) => {
      const { session } = await authenticate(context, request);
      await context.apiKeys.revoke(session.userId, request.params.keyId);
      const line = {
        event: 'apiKeyRevoked',
        userId: session.userId,
        keyId: request.params.keyId,
        ip: request.ip,
        reqId: request.id,
      };
      context.audit.info(line, 'api key revoked');
      context.metrics.audit.inc({ event: 'apiKeyRevoked' });
      return { revoked: 1 };
    },
  );
}
