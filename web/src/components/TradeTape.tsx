// The public trade tape, newest first, coloured by the taker's side.

import type { SymbolInfo } from '../api.js';
import { pricePlaces, qtyPlaces, useApp } from '../context.js';
import { formatDecimal } from '../decimal.js';
import { useTrades } from '../hooks.js';
import { formatClock } from '../time.js';

export function TradeTape({ info }: { info: SymbolInfo }) {
  const { socket } = useApp();
  const trades = useTrades(socket, info);
  return (
    <>
      <h2 class="panel-title">Trades</h2>
      <table class="tape" data-testid="trade-tape">
        <thead>
          <tr>
            <th scope="col">Price</th>
            <th scope="col">Size</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {trades.map((trade) => (
            <tr key={trade.tradeId} class={trade.takerSide === 'buy' ? 'up' : 'down'}>
              <td>{formatDecimal(trade.price, pricePlaces(info))}</td>
              <td>{formatDecimal(trade.qty, qtyPlaces(info))}</td>
              <td class="muted">{formatClock(trade.timeMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {trades.length === 0 && <p class="muted empty">No trades yet.</p>}
    </>
  );
}
