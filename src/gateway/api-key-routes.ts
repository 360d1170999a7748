// `/api/v1/api-keys`: a logged-in user creates, lists and revokes API keys (docs/API.md "API
// keys"). Login session only (`sessionOf`): a key can never manage keys, so a leaked key cannot
// mint others or keep itself alive.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import { ipAllowlistMax, labelLengthMax } from './api-keys.js';
import { sessionOf } from './authentication.js';
import { replies } from './responses.js';

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

const ApiKeyView = Type.Object({
  keyId: Type.String(),
  label: Type.String(),
  permissions: Type.Array(Type.String()),
  ipAllowlist: Type.Array(Type.String()),
  createdAtMs: Type.Number(),
});
const CreatedApiKey = Type.Intersect([ApiKeyView, Type.Object({ secret: Type.String() })]);

export const apiKeyRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const services = app.services;
  const tags = ['api-keys'];
  const config = { auth: 'user' } as const;

  app.post<{ Body: CreateApiKeyBody }>(
    '/api/v1/api-keys',
    {
      config,
      schema: {
        tags,
        body: CreateApiKeyBody,
        response: replies({ 201: CreatedApiKey }),
        summary: 'Create an API key; the reply is the only time its secret is shown',
      },
    },
    async (request, reply) => {
      const { userId } = sessionOf(request);
      const created = await services.apiKeys.create(userId, request.body);
      const line = {
        event: 'apiKeyCreated',
        userId,
        keyId: created.keyId,
        permissions: created.permissions,
        ip: request.ip,
        reqId: request.id,
      };
      services.audit.info(line, 'api key created');
      services.metrics.audit.inc({ event: 'apiKeyCreated' });
      return reply.code(201).send(created);
    },
  );

  app.get(
    '/api/v1/api-keys',
    {
      config,
      schema: {
        tags,
        response: replies({ 200: Type.Array(ApiKeyView) }),
        summary: 'My API keys (never their secrets)',
      },
    },
    async (request) => services.apiKeys.list(sessionOf(request).userId),
  );

  app.delete(
    '/api/v1/api-keys/:keyId',
    {
      config,
      schema: {
        tags,
        params: KeyIdParams,
        response: replies({ 200: Type.Object({ revoked: Type.Number() }) }),
        summary: 'Revoke one of my API keys (its WebSockets close)',
      },
    },
    async (request) => {
      const { userId } = sessionOf(request);
      const { keyId } = request.params;
      await services.apiKeys.revoke(userId, keyId);
      services.audit.info(
        { event: 'apiKeyRevoked', userId, keyId, ip: request.ip, reqId: request.id },
        'api key revoked',
      );
      services.metrics.audit.inc({ event: 'apiKeyRevoked' });
      return { revoked: 1 };
    },
  );
};
