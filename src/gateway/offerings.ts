// Limited offerings over REST and WebSocket (docs/API.md "Offerings"). Every claim, creation and
// close goes through the sequencer as an engine command, so overselling and double coupons are
// impossible by construction (the engine decides, one command at a time). What follows a claim
// (the live units-left channel, idempotency, history) is derived from applied commands only.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from '@sinclair/typebox';
import type { CouponView, OfferingView } from '../core/offerings.js';
import type { Command, OfferingCommand } from '../core/types.js';
import { submitOrReject } from './admin.js';
import { principalOf } from './authentication.js';
import { amountToMinor } from './decimal.js';
import { GatewayError, notFound } from './errors.js';
import { IdempotencyConflict } from './idempotency.js';
import {
  type ClaimResult,
  claimFingerprint,
  offeringJson,
  queriesOf,
  summariseClaim,
} from './offerings-state.js';
import {
  AllocationsReply,
  ClaimReply,
  ClaimsReply,
  CouponsReply,
  OfferingReply,
  OfferingsReply,
  replies,
} from './responses.js';
import type { GatewayServices } from './services.js';

export const clientClaimIdPattern = '^[A-Za-z0-9_.:-]{1,64}$';
const clientClaimIdRegex = new RegExp(clientClaimIdPattern);
/** Offerings listed per request (the engine bounds their number by offeringsMax anyway). */
const listedOfferingsMax = 1_000;

async function claimOnce(
  context: GatewayServices,
  user: number,
  offering: number,
  units: number,
  clientClaimId: string | undefined,
): Promise<ClaimResult> {
  const command = { op: 'claim', user, offering, units } as Command & { clientClaimId?: string };
  if (clientClaimId !== undefined) command.clientClaimId = clientClaimId;
  const outcome = await submitOrReject(context, command);
  const result = summariseClaim(outcome, context.state.markets);
  if (result === undefined) throw new GatewayError('INTERNAL', 'claim applied without a claimed event');
  if (clientClaimId !== undefined)
    context.state.offerings.claims.record(
      user,
      clientClaimId,
      result,
      outcome.ts,
      claimFingerprint({ offering, units }),
    );
  return result;
}

/** A claim, shared by REST and WebSocket. Same clientClaimId → the first result, never a second claim. */
export async function claimUnits(
  context: GatewayServices,
  user: number,
  request: { offeringId: number; units: number; clientClaimId?: string },
): Promise<ClaimResult> {
  const { offeringId, units, clientClaimId } = request;
  if (!Number.isSafeInteger(units) || units <= 0) {
    throw new GatewayError('VALIDATION_FAILED', 'units must be a positive integer', 'units');
  }
  if (queriesOf(context.engine).offering(offeringId) === undefined) throw notFound('offering');
  await context.trading.admit(user);
  if (clientClaimId === undefined) return claimOnce(context, user, offeringId, units, undefined);
  if (!clientClaimIdRegex.test(clientClaimId)) {
    throw new GatewayError(
      'VALIDATION_FAILED',
      `clientClaimId must match ${clientClaimIdPattern}`,
      'clientClaimId',
    );
  }
  try {
    return await context.state.offerings.claims.run(
      user,
      clientClaimId,
      claimFingerprint({ offering: offeringId, units }),
      () => claimOnce(context, user, offeringId, units, clientClaimId),
    );
  } catch (error) {
    if (!(error instanceof IdempotencyConflict)) throw error;
    throw new GatewayError(
      'CLIENT_CLAIM_ID_CONFLICT',
      `clientClaimId ${clientClaimId} was already used for a different claim`,
      'clientClaimId',
    );
  }
}

const safeInteger = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const positiveInteger = Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER });
const percent = Type.Integer({ minimum: 0, maximum: 100 });

const CreateOfferingBody = Type.Object(
  {
    asset: Type.String({ minLength: 1, maxLength: 32 }),
    quote: Type.String({ minLength: 1, maxLength: 32 }),
    price: Type.String({ maxLength: 48 }),
    unitSize: Type.String({ maxLength: 48 }),
    units: positiveInteger,
    perUserMax: positiveInteger,
    startTime: safeInteger,
    endTime: safeInteger,
    issuerUserId: safeInteger,
    coupon: Type.Optional(
      Type.Object(
        {
          makerDiscountPct: percent,
          takerDiscountPct: percent,
          expiresAt: safeInteger,
          uses: positiveInteger,
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type CreateOfferingBody = Static<typeof CreateOfferingBody>;

const ClaimBody = Type.Object(
  { units: positiveInteger, clientClaimId: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

const OfferingParams = Type.Object({ offeringId: Type.String({ pattern: '^[0-9]{1,15}$' }) });

function decimalsOrThrow(context: GatewayServices, asset: string, field: string): number {
  const decimals = context.state.markets.decimalsOf(asset);
  if (decimals === undefined) throw new GatewayError('UNKNOWN_ASSET', `no market trades ${asset}`, field);
  return decimals;
}

function minorOrThrow(text: string, decimals: number, field: string): number {
  const minor = amountToMinor(text, decimals);
  if (!minor.ok) throw new GatewayError('INVALID_AMOUNT', `${field} ${minor.message}`, field);
  return minor.value;
}

function createCommand(context: GatewayServices, body: CreateOfferingBody): Command {
  const price = minorOrThrow(body.price, decimalsOrThrow(context, body.quote, 'quote'), 'price');
  const unitSize = minorOrThrow(body.unitSize, decimalsOrThrow(context, body.asset, 'asset'), 'unitSize');
  if (body.endTime <= body.startTime) {
    throw new GatewayError('VALIDATION_FAILED', 'endTime must be after startTime', 'endTime');
  }
  const coupon = body.coupon;
  // No id: the sequencer assigns id = seq, so concurrent creations never collide.
  const command: Omit<OfferingCommand, 'id'> = {
    op: 'offering',
    issuer: body.issuerUserId,
    asset: body.asset,
    quote: body.quote,
    price,
    unitSize,
    units: body.units,
    perUserMax: body.perUserMax,
    startTs: body.startTime,
    endTs: body.endTime,
    ...(coupon === undefined
      ? {}
      : {
          coupon: {
            makerDiscountPct: coupon.makerDiscountPct,
            takerDiscountPct: coupon.takerDiscountPct,
            expiresTs: coupon.expiresAt,
            uses: coupon.uses,
          },
        }),
  };
  return command as Command;
}

function couponJson(coupon: CouponView) {
  return {
    offeringId: coupon.offering,
    makerDiscountPct: coupon.makerDiscountPct,
    takerDiscountPct: coupon.takerDiscountPct,
    expiresAt: coupon.expiresTs,
    uses: coupon.uses,
    usesLeft: coupon.usesLeft,
  };
}

export const offeringRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const tags = ['offerings'];
  const user = { auth: 'user' } as const;
  const admin = { auth: 'admin' } as const;
  const visitor = { auth: 'public' } as const;
  const markets = context.state.markets;
  const queries = () => queriesOf(context.engine);
  const offeringOr404 = (idText: string): OfferingView => {
    const view = queries().offering(Number(idText));
    if (view === undefined) throw notFound('offering');
    return view;
  };

  app.get(
    '/api/v1/offerings',
    {
      config: visitor,
      schema: { tags, response: replies({ 200: OfferingsReply }), summary: 'Offerings with units left' },
    },
    async () =>
      queries()
        .offeringList()
        .slice(-listedOfferingsMax)
        .map((view) => offeringJson(view, markets)),
  );

  app.get(
    '/api/v1/offerings/:offeringId',
    {
      config: visitor,
      schema: {
        tags,
        params: OfferingParams,
        response: replies({ 200: OfferingReply }),
        summary: 'One offering',
      },
    },
    async (request) => offeringJson(offeringOr404(request.params.offeringId), markets),
  );

  app.post(
    '/api/v1/offerings/:offeringId/claims',
    {
      config: user,
      schema: {
        tags,
        params: OfferingParams,
        body: ClaimBody,
        response: replies({ 201: ClaimReply }),
        summary: 'Claim units (all or nothing)',
      },
    },
    async (request, reply) => {
      const result = await claimUnits(context, principalOf(request).userId, {
        offeringId: Number(request.params.offeringId),
        units: request.body.units,
        clientClaimId: request.body.clientClaimId,
      });
      return reply.code(201).send(result);
    },
  );

  app.get(
    '/api/v1/claims',
    { config: user, schema: { tags, response: replies({ 200: ClaimsReply }), summary: 'My claims' } },
    async (request) => {
      return queries()
        .claimsOf(principalOf(request).userId)
        .map((claim) => ({ offeringId: claim.offering, units: claim.units }));
    },
  );

  app.get(
    '/api/v1/coupons',
    { config: user, schema: { tags, response: replies({ 200: CouponsReply }), summary: 'My fee coupons' } },
    async (request) => {
      return queries().couponsOf(principalOf(request).userId).map(couponJson);
    },
  );

  app.post(
    '/api/v1/admin/offerings',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        body: CreateOfferingBody,
        response: replies({ 201: OfferingReply }),
        summary: 'Create an offering (admin)',
      },
    },
    async (request, reply) => {
      const adminId = principalOf(request).userId;
      const command = createCommand(context, request.body);
      const outcome = await submitOrReject(context, command);
      const id = (outcome.command as { id: number }).id;
      context.audit.info(
        { event: 'offeringCreated', adminId, offeringId: id, reqId: request.id },
        'offering created',
      );
      return reply.code(201).send(offeringJson(offeringOr404(String(id)), markets));
    },
  );

  app.post(
    '/api/v1/admin/offerings/:offeringId/close',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        params: OfferingParams,
        response: replies({ 200: OfferingReply }),
        summary: 'Close an offering early (admin)',
      },
    },
    async (request) => {
      const adminId = principalOf(request).userId;
      const view = offeringOr404(request.params.offeringId);
      await submitOrReject(context, { op: 'closeOffering', offering: view.id });
      context.audit.info(
        { event: 'offeringClosed', adminId, offeringId: view.id, reqId: request.id },
        'offering closed',
      );
      return offeringJson(offeringOr404(String(view.id)), markets);
    },
  );

  app.get(
    '/api/v1/admin/offerings/:offeringId/allocations',
    {
      config: admin,
      schema: {
        tags: ['admin'],
        params: OfferingParams,
        response: replies({ 200: AllocationsReply }),
        summary: 'Units claimed per user (admin)',
      },
    },
    async (request) => {
      const view = offeringOr404(request.params.offeringId);
      return (queries().allocations(view.id) ?? []).map((entry) => ({
        userId: entry.user,
        units: entry.units,
      }));
    },
  );
};
