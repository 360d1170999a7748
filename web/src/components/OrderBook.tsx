// The ladder: asks above, bids below, size bars relative to the largest visible level, the
// spread in between. Clicking a price fills the order form. Never shown stale: while resyncing
// it says so instead of showing an old book.

import type { SymbolInfo } from '../api.js';
import type { DepthLevel } from '../book.js';
import { pricePlaces, qtyPlaces, useApp } from '../context.js';
import { formatDecimal, maxDecimal, sharePercent, subtractDecimal } from '../decimal.js';
import { useDepth } from '../hooks.js';

export function OrderBook({ info, onPick }: { info: SymbolInfo; onPick: (price: string) => void }) {
  const { socket } = useApp();
  const depth = useDepth(socket, info);
  const largest = [...depth.bids, ...depth.asks].reduce((max, level) => maxDecimal(max, level.qty), '0');
  const bestBid = depth.bids[0];
  const bestAsk = depth.asks[0];
  const spread = bestBid && bestAsk ? subtractDecimal(bestAsk.price, bestBid.price) : undefined;
  const row = (level: DepthLevel, side: 'bid' | 'ask') => (
    <li key={level.price} class={`level ${side}`}>
      <button
        type="button"
        class="level-button"
        onClick={() => onPick(level.price)}
        aria-label={`${side === 'bid' ? 'Bid' : 'Ask'} ${level.price} for ${level.qty}: use this price`}
      >
        <span class="bar" style={{ width: `${sharePercent(level.qty, largest)}%` }} aria-hidden="true" />
        <span class="price">{formatDecimal(level.price, pricePlaces(info))}</span>
        <span class="qty">{formatDecimal(level.qty, qtyPlaces(info))}</span>
      </button>
    </li>
  );
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
