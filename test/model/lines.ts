// Turns the engine's events for one command into the spec's replay lines, so that the property
// test can compare engine and model command by command (replayCommands is compared as a whole).
import type { EngineEvent } from '../../src/core/types.js';
import type { ReplayLine } from './reference.js';

/** Replay lines of one command's events; `index` is the command's 0-based number. */
export function linesOfEvents(events: readonly EngineEvent[], index: number): ReplayLine[] {
  const lines: ReplayLine[] = [];
  for (const event of events) {
    switch (event.ev) {
      case 'trade':
        lines.push({
          ev: 'trade',
          symbol: event.symbol,
          taker: event.taker,
          maker: event.maker,
          price: event.price,
          qty: event.qty,
          takerFee: event.takerFee,
          makerFee: event.makerFee,
        });
        break;
      case 'rejected':
        lines.push({ ev: 'rejected', cmd: index, id: event.id, reason: event.reason });
        break;
      case 'expired':
        lines.push({ ev: 'expired', id: event.id, qty: event.qty, reason: event.reason });
        break;
      case 'cancelled':
        lines.push({ ev: 'cancelled', id: event.id, qty: event.qty, reason: event.reason });
        break;
      case 'amended':
        lines.push({ ev: 'amended', id: event.id, qty: event.qty });
        break;
      case 'triggered':
        lines.push({ ev: 'triggered', id: event.id });
        break;
      case 'claimed':
        lines.push({
          ev: 'claimed',
          offering: event.offering,
          user: event.user,
          units: event.units,
          paid: event.paid,
          left: event.left,
        });
        break;
      case 'couponIssued':
        lines.push({
          ev: 'couponIssued',
          offering: event.offering,
          user: event.user,
          makerDiscountPct: event.makerDiscountPct,
          takerDiscountPct: event.takerDiscountPct,
          expiresTs: event.expiresTs,
          uses: event.uses,
        });
        break;
      case 'offeringClosed':
        lines.push({ ev: 'offeringClosed', offering: event.offering, returnedUnits: event.returnedUnits });
        break;
      default:
        break;
    }
  }
  return lines;
}
