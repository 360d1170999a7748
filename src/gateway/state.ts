// Everything the gateway derives from applied commands. Registered with the sequencer's
// `onApplied` BEFORE recovery replays the journal, and as a snapshot participant, so markets,
// order history and idempotency keys are restored from the snapshot recovery starts at and
// then brought up to date by the journal tail; private streams see live outcomes only.
import type { MatchingEngine } from '../core/types.js';
import type { SnapshotParticipant } from '../journal/participant.js';
import type { CommandOutcome } from '../ports.js';
import { IdempotencyIndex, type IdempotencyOptions } from './idempotency.js';
import { MarketRegistry } from './markets.js';
import { OfferingsState } from './offerings-state.js';
import { isReadableTrackerState, OrderTracker, type OrderTrackerOptions } from './order-tracker.js';
import { type PrivateStreamOptions, PrivateStreams } from './private-streams.js';
import { type PlaceResult, placeFingerprint, summarisePlace } from './trading.js';

export interface GatewayStateOptions {
  idempotency: IdempotencyOptions;
  tracker: OrderTrackerOptions;
  streams: PrivateStreamOptions;
}

export class GatewayState {
  readonly markets = new MarketRegistry();
  readonly tracker: OrderTracker;
  readonly idempotency: IdempotencyIndex<PlaceResult>;
  readonly streams: PrivateStreams;
  readonly offerings: OfferingsState;
  private readonly liveListeners: Array<(outcome: CommandOutcome) => void> = [];

  /** Set once recovery has built the engine; live outcomes (the only ones streamed) come later. */
  private engine: MatchingEngine | undefined;

  constructor(options: GatewayStateOptions) {
    this.tracker = new OrderTracker(options.tracker);
    this.idempotency = new IdempotencyIndex(options.idempotency);
    this.offerings = new OfferingsState(options.idempotency, this.markets);
    this.streams = new PrivateStreams(options.streams, this.balanceOf, this.markets, this.tracker);
  }

  useEngine(engine: MatchingEngine): void {
    this.engine = engine;
    this.offerings.useEngine(engine);
  }

  private readonly balanceOf = (user: number, asset: string) => {
    if (this.engine === undefined) throw new Error('gateway state used before the engine was recovered');
    return this.engine.balance(user, asset);
  };

  /** Other consumers of live outcomes (market data), called after the gateway's own state. */
  onLive(listener: (outcome: CommandOutcome) => void): void {
    this.liveListeners.push(listener);
  }

  readonly apply = (outcome: CommandOutcome, replaying: boolean): void => {
    this.markets.apply(outcome);
    this.tracker.apply(outcome);
    this.rememberClientOrderId(outcome);
    this.offerings.apply(outcome);
    if (replaying) return;
    this.streams.publish(outcome);
    this.offerings.publish(outcome);
    for (const listener of this.liveListeners) listener(outcome);
  };

  /**
   * The snapshot participant for everything above that comes from applied commands: markets,
   * tracked orders and trades, clientOrderId and clientClaimId results. Private streams hold only
   * live connections, nothing to restore.
   */
  readonly snapshotParticipant: SnapshotParticipant = {
    name: 'gateway',
    exportState: () => ({
      markets: this.markets.exportState(),
      tracker: this.tracker.exportState(),
      idempotency: this.idempotency.exportState(),
      claims: this.offerings.claims.exportState(),
    }),
    readsState: (state: unknown) =>
      state !== null &&
      typeof state === 'object' &&
      isReadableTrackerState((state as { tracker?: unknown }).tracker),
    restoreState: (state: unknown) => {
      const parts = state as Record<string, unknown> | null;
      if (parts === null || typeof parts !== 'object') throw new Error('gateway state must be an object');
      this.markets.restoreState(parts.markets);
      this.tracker.restoreState(parts.tracker);
      this.idempotency.restoreState(parts.idempotency);
      this.offerings.claims.restoreState(parts.claims);
    },
  };

  private rememberClientOrderId(outcome: CommandOutcome): void {
    const command = outcome.command as { op: string; user?: unknown; clientOrderId?: unknown };
    if (
      (command.op !== 'place' && command.op !== 'oco') ||
      typeof command.clientOrderId !== 'string' ||
      typeof command.user !== 'number'
    )
      return;
    const result = summarisePlace(outcome, this.markets);
    if (result !== undefined) {
      const fingerprint = placeFingerprint(command as Parameters<typeof placeFingerprint>[0]);
      this.idempotency.record(command.user, command.clientOrderId, result, outcome.ts, fingerprint);
    }
  }
}
