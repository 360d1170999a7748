// Markets (public list) and the administrator's routes: create a market, book deposits and
// withdrawals. Everything goes through the sequencer as an engine command, so it is journaled,
// replayed and ordered with trading like any other command.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Command } from '../core/types.js';
import { isValidTimezone } from '../marketdata/timezone.js';
import type { CommandOutcome } from '../ports.js';
import { principalOf } from './authentication.js';
import { amountToMinor, marketScale, minorToAmount } from './decimal.js';
import { GatewayError, notFound, orQueueFull } from './errors.js';
import { type DecimalSymbolCommand, joinedSymbolName } from './markets.js';
import { FundsReply, MarketReply, replies } from './responses.js';
import { FundsBody, SymbolBody } from './schemas.js';
import type { GatewayServices } from './services.js';
import { rejectError } from './trading.js';
import { marketJson } from './views.js';

/** Submits an admin or offering command: 503 on a full queue, the engine's code on a reject. */
export async function submitOrReject(context: GatewayServices, command: Command): Promise<CommandOutcome> {
  const outcome = await orQueueFull(() => context.sequencer.submit(command));
  const rejected = outcome.events.find((event) => event.ev === 'rejected');
  if (rejected?.ev === 'rejected') throw rejectError(rejected.reason);
  return outcome;
}

/** An asset's decimals are fixed by the first market naming it; a second market must agree. */
function checkAssetDecimals(context: GatewayServices, asset: string, decimals: number, field: string): void {
  const known = context.state.markets.decimalsOf(asset);
  if (known !== undefined && known !== decimals) {
    throw new GatewayError('ASSET_DECIMALS_MISMATCH', `${asset} already has ${known} decimals`, field);
  }
}

export const symbolRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  app.get(
    '/api/v1/symbols',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['symbols'],
        response: replies({ 200: Type.Array(MarketReply) }),
        summary: 'Markets and their units',
      },
    },
    async () => context.state.markets.all().map(marketJson),
  );

  app.get(
    '/api/v1/symbols/:symbol',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['symbols'],
        params: Type.Object({ symbol: Type.String() }),
        response: replies({ 200: MarketReply }),
        summary: 'One market',
      },
    },
    async (request) => {
      const market = context.state.markets.market(request.params.symbol);
      if (market === undefined) throw notFound('symbol');
      return marketJson(market);
    },
  );
};

/**
 * Refuses a market whose base and quote join to another market's joined name: Binance-compatible
 * clients could not tell the two apart. Checked before the command; two listings racing each
 * other could both pass (the engine only refuses a duplicate `symbol`).
 */
function checkJoinedName(context: GatewayServices, symbol: string, base: string, quote: string): void {
  const taken = context.state.markets.marketByJoinedName(joinedSymbolName(base, quote));
  if (taken === undefined || taken.symbol === symbol) return;
  throw new GatewayError(
    'SYMBOL_NAME_COLLISION',
    `${base}+${quote} joins to ${joinedSymbolName(base, quote)}, the name of market ${taken.symbol}`,
    'symbol',
  );
}

export const adminRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const context = app.services;
  const tags = ['admin'];
  const config = { auth: 'admin' } as const;

  app.post(
    '/api/v1/admin/symbols',
    {
      config,
      schema: {
        tags,
        body: SymbolBody,
        response: replies({ 201: MarketReply }),
        summary: 'Create a market (admin)',
      },
    },
    async (request, reply) => {
      const body = request.body;
      const scale = marketScale(body);
      if (!scale.ok)
        throw new GatewayError('VALIDATION_FAILED', `${scale.field} ${scale.message}`, scale.field);
      if (body.timezone !== undefined && !isValidTimezone(body.timezone)) {
        throw new GatewayError('VALIDATION_FAILED', 'timezone is not a known IANA timezone', 'timezone');
      }
      checkJoinedName(context, body.symbol, body.base, body.quote);
      checkAssetDecimals(context, body.base, body.baseDecimals, 'baseDecimals');
      checkAssetDecimals(context, body.quote, body.quoteDecimals, 'quoteDecimals');
      const command: DecimalSymbolCommand = {
        op: 'symbol',
        symbol: body.symbol,
        base: body.base,
        quote: body.quote,
        lotSize: scale.value.lotSizeMinor,
        tickSize: scale.value.tickSizeMinor,
        makerFeeBps: body.makerFeeBps,
        takerFeeBps: body.takerFeeBps,
        baseDecimals: body.baseDecimals,
        quoteDecimals: body.quoteDecimals,
        lotSizeDecimal: body.lotSize,
        tickSizeDecimal: body.tickSize,
      };
      if (body.timezone !== undefined) command.timezone = body.timezone;
      await submitOrReject(context, command);
      const market = context.state.markets.market(body.symbol);
      if (market === undefined) throw new GatewayError('INTERNAL', 'market not registered after apply');
      return reply.code(201).send(marketJson(market));
    },
  );

  for (const op of ['deposit', 'withdraw'] as const) {
    const path = op === 'deposit' ? '/api/v1/admin/deposits' : '/api/v1/admin/withdrawals';
    app.post(
      path,
      {
        config,
        schema: {
          tags,
          body: FundsBody,
          response: replies({ 201: FundsReply }),
          summary: `Book a ${op} for a user (admin)`,
        },
      },
      async (request, reply) => {
        const admin = { id: principalOf(request).userId };
        const { userId, asset, amount } = request.body;
        const decimals = context.state.markets.decimalsOf(asset);
        if (decimals === undefined)
          throw new GatewayError('UNKNOWN_ASSET', `no market trades ${asset}`, 'asset');
        const minor = amountToMinor(amount, decimals);
        if (!minor.ok) throw new GatewayError('INVALID_AMOUNT', `amount ${minor.message}`, 'amount');
        if ((await context.users.findUserById(userId)) === undefined && userId !== 0) throw notFound('user');
        const outcome = await submitOrReject(context, { op, user: userId, asset, amount: minor.value });
        context.audit.info({ event: op, adminId: admin.id, userId, asset, amount, reqId: request.id }, op);
        const balance = context.engine.balance(userId, asset);
        return reply.code(201).send({
          seq: outcome.seq,
          userId,
          asset,
          amount: minorToAmount(minor.value, decimals),
          available: minorToAmount(balance.available, decimals),
          locked: minorToAmount(balance.locked, decimals),
        });
      },
    );
  }
};
