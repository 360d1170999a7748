// Limited offerings over REST and WebSocket (docs/API.md "Offerings"). Every claim, creation and
// close goes through the sequencer as an engine command, so overselling and double coupons are
// impossible by construction (the engine decides, one command at a time). What follows a claim
// (the live units-left channel, idempotency, history) is derived from applied commands only.
import type { FastifyInstance } from 'fastify';
import type { CouponView, OfferingView } from '../core/offerings.js';
import type { Command, OfferingCommand } from '../core/types.js';
import { submitOrReject } from './admin.js';
import { authenticate, type GatewayContext, requireAdmin } from './context.js';
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

export const clientClaimIdPattern = '^[A-Za-z0-9_.:-]{1,64}$';
const clientClaimIdRegex = new RegExp(clientClaimIdPattern);
/** Offerings listed per request (the engine bounds their number by offeringsMax anyway). */
const listedOfferingsMax = 1_000;

async function claimOnce(
  context: GatewayContext,
  user: number,
  offering: number,
  units: number,
  clientClaimId: string | undefined,
): Promise<ClaimResult> {
  const command = { op: 'claim', user, offering, units } as Command & { clientClaimId?: string };
  if (clientClaimId !== undefined) command.clientClaimId = clientClaimId;
  const outcome = await submitOrReject(context, command);
  const result = summariseClaim(outcome, context.state.markets);
  if (result === undefined) throw new GatewayError(500, 'INTERNAL', 'claim applied without a claimed event');
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
  context: GatewayContext,
  user: number,
  request: { offeringId: number; units: number; clientClaimId?: string },
): Promise<ClaimResult> {
  const { offeringId, units, clientClaimId } = request;
  if (!Number.isSafeInteger(units) || units <= 0) {
    throw new GatewayError(400, 'VALIDATION_FAILED', 'units must be a positive integer', 'units');
  }
  if (queriesOf(context.engine).offering(offeringId) === undefined) throw notFound('offering');
  await context.trading.admit(user);
  if (clientClaimId === undefined) return claimOnce(context, user, offeringId, units, undefined);
  if (!clientClaimIdRegex.test(clientClaimId)) {
    throw new GatewayError(
      400,
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
      409,
      'CLIENT_CLAIM_ID_CONFLICT',
      `clientClaimId ${clientClaimId} was already used for a different claim`,
      'clientClaimId',
    );
  }
}

interface CreateOfferingBody {
  asset: string;
  quote: string;
  price: string;
  unitSize: string;
  units: number;
  perUserMax: number;
  startTime: number;
  endTime: number;
  issuerUserId: number;
  coupon?: { makerDiscountPct: number; takerDiscountPct: number; expiresAt: number; uses: number };
}

const safeInteger = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const positiveInteger = { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } as const;
const percent = { type: 'integer', minimum: 0, maximum: 100 } as const;
const createOfferingSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'asset',
    'quote',
    'price',
    'unitSize',
    'units',
    'perUserMax',
    'startTime',
    'endTime',
    'issuerUserId',
  ],
  properties: {
    asset: { type: 'string', minLength: 1, maxLength: 32 },
    quote: { type: 'string', minLength: 1, maxLength: 32 },
    price: { type: 'string', maxLength: 48 },
    unitSize: { type: 'string', maxLength: 48 },
    units: positiveInteger,
    perUserMax: positiveInteger,
    startTime: safeInteger,
    endTime: safeInteger,
    issuerUserId: safeInteger,
    coupon: {
      type: 'object',
      additionalProperties: false,
      required: ['makerDiscountPct', 'takerDiscountPct', 'expiresAt', 'uses'],
      properties: {
        makerDiscountPct: percent,
        takerDiscountPct: percent,
        expiresAt: safeInteger,
        uses: positiveInteger,
      },
    },
  },
} as const;

const claimSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['units'],
  properties: { units: positiveInteger, clientClaimId: { type: 'string', maxLength: 64 } },
} as const;

const offeringParams = {
  type: 'object',
  required: ['offeringId'],
  properties: { offeringId: { type: 'string', pattern: '^[0-9]{1,15}$' } },
} as const;

function decimalsOrThrow(context: GatewayContext, asset: string, field: string): number {
  const decimals = context.state.markets.decimalsOf(asset);
  if (decimals === undefined)
    throw new GatewayError(400, 'UNKNOWN_ASSET', `no market trades ${asset}`, field);
  return decimals;
}

function minorOrThrow(text: string, decimals: number, field: string): number {
  const minor = amountToMinor(text, decimals);
  if (!minor.ok) throw new GatewayError(400, 'INVALID_AMOUNT', `${field} ${minor.message}`, field);
  return minor.value;
}

function createCommand(context: GatewayContext, body: CreateOfferingBody): Command {
  const price = minorOrThrow(body.price, decimalsOrThrow(context, body.quote, 'quote'), 'price');
  const unitSize = minorOrThrow(body.unitSize, decimalsOrThrow(context, body.asset, 'asset'), 'unitSize');
  if (body.endTime <= body.startTime) {
    throw new GatewayError(400, 'VALIDATION_FAILED', 'endTime must be after startTime', 'endTime');
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

function couponJson(coupon: CouponView): Record<string, unknown> {
  return {
    offeringId: coupon.offering,
    makerDiscountPct: coupon.makerDiscountPct,
    takerDiscountPct: coupon.takerDiscountPct,
    expiresAt: coupon.expiresTs,
    uses: coupon.uses,
    usesLeft: coupon.usesLeft,
  };
}

export function registerOfferingRoutes(app: FastifyInstance, context: GatewayContext): void {
  const tags = ['offerings'];
  const markets = context.state.markets;
  const queries = () => queriesOf(context.engine);
  const offeringOr404 = (idText: string): OfferingView => {
    const view = queries().offering(Number(idText));
    if (view === undefined) throw notFound('offering');
    return view;
  };

  app.get('/api/v1/offerings', { schema: { tags, summary: 'Offerings with units left' } }, async () =>
    queries()
      .offeringList()
      .slice(-listedOfferingsMax)
      .map((view) => offeringJson(view, markets)),
  );

  app.get<{ Params: { offeringId: string } }>(
    '/api/v1/offerings/:offeringId',
    { schema: { tags, params: offeringParams, summary: 'One offering' } },
    async (request) => offeringJson(offeringOr404(request.params.offeringId), markets),
  );

  app.post<{ Params: { offeringId: string }; Body: { units: number; clientClaimId?: string } }>(
    '/api/v1/offerings/:offeringId/claims',
    { schema: { tags, params: offeringParams, body: claimSchema, summary: 'Claim units (all or nothing)' } },
    async (request, reply) => {
      const { session } = await authenticate(context, request);
      const result = await claimUnits(context, session.userId, {
        offeringId: Number(request.params.offeringId),
        units: request.body.units,
        clientClaimId: request.body.clientClaimId,
      });
      return reply.code(201).send(result);
    },
  );

  app.get('/api/v1/claims', { schema: { tags, summary: 'My claims' } }, async (request) => {
    const { session } = await authenticate(context, request);
    return queries()
      .claimsOf(session.userId)
      .map((claim) => ({ offeringId: claim.offering, units: claim.units }));
  });

  app.get('/api/v1/coupons', { schema: { tags, summary: 'My fee coupons' } }, async (request) => {
    const { session } = await authenticate(context, request);
    return queries().couponsOf(session.userId).map(couponJson);
  });

  app.post<{ Body: CreateOfferingBody }>(
    '/api/v1/admin/offerings',
    { schema: { tags: ['admin'], body: createOfferingSchema, summary: 'Create an offering (admin)' } },
    async (request, reply) => {
      const admin = await requireAdmin(context, request);
      const command = createCommand(context, request.body);
      const outcome = await submitOrReject(context, command);
      const id = (outcome.command as { id: number }).id;
      context.audit.info(
        { event: 'offeringCreated', adminId: admin.id, offeringId: id, reqId: request.id },
        'offering created',
      );
      return reply.code(201).send(offeringJson(offeringOr404(String(id)), markets));
    },
  );

  app.post<{ Params: { offeringId: string } }>(
    '/api/v1/admin/offerings/:offeringId/close',
    { schema: { tags: ['admin'], params: offeringParams, summary: 'Close an offering early (admin)' } },
    async (request) => {
      const admin = await requireAdmin(context, request);
      const view = offeringOr404(request.params.offeringId);
      await submitOrReject(context, { op: 'closeOffering', offering: view.id });
      context.audit.info(
        { event: 'offeringClosed', adminId: admin.id, offeringId: view.id, reqId: request.id },
        'offering closed',
      );
      return offeringJson(offeringOr404(String(view.id)), markets);
    },
  );

  app.get<{ Params: { offeringId: string } }>(
    '/api/v1/admin/offerings/:offeringId/allocations',
    { schema: { tags: ['admin'], params: offeringParams, summary: 'Units claimed per user (admin)' } },
    async (request) => {
      await requireAdmin(context, request);
      const view = offeringOr404(request.params.offeringId);
      return (queries().allocations(view.id) ?? []).map((entry) => ({
        userId: entry.user,
        units: entry.units,
      }));
    },
  );
}
