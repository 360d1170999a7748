// The ladder: asks above, bids below, size bars relative to the largest visible level, the
// spread in between. Clicking a price fills the order form. Never shown stale: while resyncing
// it says so instead of showing an old book.

import { useAccountData } from '../account.js';
import { api, type SymbolInfo } from '../api.js';
import type { DepthLevel } from '../book.js';
import { pricePlaces, qtyPlaces, useApp } from '../context.js';
import { formatDecimal, maxDecimal, sharePercent, subtractDecimal } from '../decimal.js';
import { useDepth } from '../hooks.js';

/** The same price written "12.5" or "12.50" gives the same key. */
function compareKey(price: string): string {
  return formatDecimal(price, 18);
}

export function OrderBook({ info, onPick }: { info: SymbolInfo; onPick: (price: string) => void }) {
  const { socket } = useApp();
  const depth = useDepth(socket, info);
  const openOrders = useAccountData(api.openOrders);
  // Prices where the user has an order resting, per side, marked in the ladder.
  const mine = new Set(
    (openOrders.value ?? [])
      .filter((order) => order.symbol === info.symbol && order.price !== null)
      .map((order) => `${order.side === 'buy' ? 'bid' : 'ask'}:${compareKey(order.price as string)}`),
  );
  const largest = [...depth.bids, ...depth.asks].reduce((max, level) => maxDecimal(max, level.qty), '0');
  const bestBid = depth.bids[0];
  const bestAsk = depth.asks[0];
  const spread = bestBid && bestAsk ? subtractDecimal(bestAsk.price, bestBid.price) : undefined;
  const row = (level: DepthLevel, side: 'bid' | 'ask') => {
    const isMine = mine.has(`${side}:${compareKey(level.price)}`);
    return (
      <li key={level.price} class={`level ${side}`} data-mine={isMine}>
        <button
          type="button"
          class="level-button"
          onClick={() => onPick(level.price)}
          aria-label={`${side === 'bid' ? 'Bid' : 'Ask'} ${level.price} for ${level.qty}${isMine ? ', with your order' : ''}: use this price`}
        >
          <span class="bar" style={{ width: `${sharePercent(level.qty, largest)}%` }} aria-hidden="true" />
          <span class="price">
            {isMine && (
              <span class="mine-dot" title="Your order is at this price" aria-hidden="true">
                ●
              </span>
            )}
            <span class="price-value">{formatDecimal(level.price, pricePlaces(info))}</span>
          </span>
          <span class="qty">{formatDecimal(level.qty, qtyPlaces(info))}</span>
        </button>
      </li>
    );
  };
  return (
    <div class="order-book" data-testid="order-book" data-synced={depth.synced ? 'true' : 'false'}>
      <h2 class="panel-title">
        Order book
        {!depth.synced && <span class="badge warn">syncing…</span>}
      </h2>
      <div class="book-columns muted" aria-hidden="true">
        <span>Price ({info.quote})</span>
        <span>Size ({info.base})</span>
      </div>
      <ul class="asks" aria-label="Asks (sell orders)" data-testid="asks">
        {[...depth.asks].reverse().map((level) => row(level, 'ask'))}
      </ul>
      <div class="spread" data-testid="spread">
        {spread !== undefined ? (
          <>
            Spread <strong>{formatDecimal(spread, pricePlaces(info))}</strong>
          </>
        ) : (
          <span class="muted">{depth.synced ? 'No spread: one side is empty' : 'Loading book…'}</span>
        )}
      </div>
      <ul class="bids" aria-label="Bids (buy orders)" data-testid="bids">
        {depth.bids.map((level) => row(level, 'bid'))}
      </ul>
    </div>
  );
}
