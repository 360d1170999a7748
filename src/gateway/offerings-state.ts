// The gateway's derived offering state (a listener of applied commands, owned by GatewayState):
// claim idempotency keys and the live `offerings.<id>` channels. Route modules import this one,
// never the other way round (docs/ARCHITECTURE.md "Layering").
import type { CouponView, OfferingView } from '../core/offerings.js';
import type { MatchingEngine } from '../core/types.js';
import type { ChannelName, ChannelPublisher, ChannelSource } from '../marketdata/index.js';
import type { CommandOutcome } from '../ports.js';
import { minorToAmount } from './decimal.js';
import { IdempotencyIndex, type IdempotencyOptions } from './idempotency.js';
import type { MarketRegistry } from './markets.js';

/** The engine's offering queries (src/core/engine.ts); the port's engines all have them. */
export interface OfferingQueries {
  offeringList(): OfferingView[];
  offering(id: number): OfferingView | undefined;
  allocations(offering: number): Array<{ user: number; units: number }> | undefined;
  claimsOf(user: number): Array<{ offering: number; units: number }>;
  couponsOf(user: number): CouponView[];
}

export interface ClaimResult {
  seq: number;
  offeringId: number;
  units: number;
  /** Quote paid, in the quote asset's decimals. */
  paid: string;
  left: number;
  couponIssued: boolean;
  clientClaimId?: string;
}

export function queriesOf(engine: MatchingEngine): OfferingQueries {
  return engine as MatchingEngine & OfferingQueries;
}

function offeringChannel(id: number): string {
  return `offerings.${id}`;
}

/** An offering in human units: amounts as decimal strings in their asset's decimals. */
export function offeringJson(view: OfferingView, markets: MarketRegistry) {
  const assetDecimals = markets.decimalsOf(view.asset) ?? 0;
  const quoteDecimals = markets.decimalsOf(view.quote) ?? 0;
  return {
    id: view.id,
    asset: view.asset,
    quote: view.quote,
    price: minorToAmount(view.price, quoteDecimals),
    unitSize: minorToAmount(view.unitSize, assetDecimals),
    units: view.units,
    left: view.left,
    perUserMax: view.perUserMax,
    startTime: view.startTs,
    endTime: view.endTs,
    closed: view.closed,
    claimants: view.claimants,
    coupon:
      view.coupon === null
        ? null
        : {
            makerDiscountPct: view.coupon.makerDiscountPct,
            takerDiscountPct: view.coupon.takerDiscountPct,
            expiresAt: view.coupon.expiresTs,
            uses: view.coupon.uses,
          },
  };
}

/**
 * The gateway's derived offering state: claim idempotency keys (rebuilt from the journal on every
 * start) and the live `offerings.<id>` channels (a source for the market-data hub).
 */
export class OfferingsState implements ChannelSource {
  readonly claims: IdempotencyIndex<ClaimResult>;
  private publisher: ChannelPublisher | undefined;
  private engine: MatchingEngine | undefined;

  constructor(
    options: IdempotencyOptions,
    private readonly markets: MarketRegistry,
  ) {
    this.claims = new IdempotencyIndex(options);
  }

  useEngine(engine: MatchingEngine): void {
    this.engine = engine;
  }

  usePublisher(publisher: ChannelPublisher): void {
    this.publisher = publisher;
  }

  /** Every applied command, live and replayed: remembers claim results by clientClaimId. */
  apply(outcome: CommandOutcome): void {
    const command = outcome.command as { op: string; user?: unknown; clientClaimId?: unknown };
    if (
      command.op !== 'claim' ||
      typeof command.clientClaimId !== 'string' ||
      typeof command.user !== 'number'
    )
      return;
    const result = summariseClaim(outcome, this.markets);
    if (result !== undefined) {
      const fingerprint = claimFingerprint(command as { offering?: unknown; units?: unknown });
      this.claims.record(command.user, command.clientClaimId, result, outcome.ts, fingerprint);
    }
  }

  /** Live outcomes only: pushes the new units-left of every offering they touched. */
  publish(outcome: CommandOutcome): void {
    if (this.publisher === undefined || this.engine === undefined) return;
    for (const event of outcome.events) {
      if (event.ev !== 'claimed' && event.ev !== 'offeringClosed' && event.ev !== 'offeringCreated') continue;
      const channel = offeringChannel(event.offering);
      if (!this.publisher.isWatched(channel)) continue;
      const view = queriesOf(this.engine).offering(event.offering);
      if (view !== undefined) this.publisher.publish(channel, offeringJson(view, this.markets));
    }
  }

  has(channel: ChannelName): boolean {
    return channel.kind === 'offerings' && this.view(channel.symbol) !== undefined;
  }

  snapshot(channel: ChannelName): unknown {
    const view = this.view(channel.symbol);
    return view === undefined ? null : offeringJson(view, this.markets);
  }

  private view(idText: string): OfferingView | undefined {
    if (this.engine === undefined || !/^[0-9]{1,15}$/.test(idText)) return undefined;
    return queriesOf(this.engine).offering(Number(idText));
  }
}

/** The result of an applied claim command, or undefined when the engine rejected it. */
export function summariseClaim(outcome: CommandOutcome, markets: MarketRegistry): ClaimResult | undefined {
  const claimed = outcome.events.find((event) => event.ev === 'claimed');
  if (claimed?.ev !== 'claimed') return undefined;
  const command = outcome.command as { clientClaimId?: unknown };
  const result: ClaimResult = {
    seq: outcome.seq,
    offeringId: claimed.offering,
    units: claimed.units,
    paid: minorToAmount(claimed.paid, markets.decimalsOf(claimed.quote) ?? 0),
    left: claimed.left,
    couponIssued: outcome.events.some((event) => event.ev === 'couponIssued'),
  };
  if (typeof command.clientClaimId === 'string') result.clientClaimId = command.clientClaimId;
  return result;
}

/** What makes two claims with one clientClaimId the same claim: its offering and units. */
export function claimFingerprint(command: { offering?: unknown; units?: unknown }): string {
  return JSON.stringify([command.offering, command.units]);
}
