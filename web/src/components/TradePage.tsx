// The trading screen: markets, chart, book and tape, order entry and the user's account.

import { useState } from 'preact/hooks';
import { pricePlaces, qtyPlaces, symbolInfo, useApp } from '../context.js';
import { formatDecimal, percentChange } from '../decimal.js';
import { liveTicker, useTickers } from '../hooks.js';
import { AccountPanels } from './AccountPanels.js';
import { CandleChart } from './CandleChart.js';
import { OrderBook } from './OrderBook.js';
import { OrderForm, type PickedPrice } from './OrderForm.js';
import { SymbolList } from './SymbolList.js';
import { TradeTape } from './TradeTape.js';

export function TradePage({ symbol }: { symbol?: string }) {
  const { symbols, socket } = useApp();
  const [picked, setPicked] = useState<PickedPrice | null>(null);
  const tickers = useTickers(socket, symbols);
  const active = symbol && symbolInfo(symbols, symbol) ? symbol : symbols[0]?.symbol;
  if (!active) {
    return (
      <section class="card empty-market">
        <h1>No markets yet</h1>
        <p class="muted">
          This exchange has no symbols listed. An administrator adds them, or start it with{' '}
          <code>npm start -- --demo</code> for a live demo market.
        </p>
      </section>
    );
  }
  const info = symbolInfo(symbols, active)!;
  const ticker = liveTicker(tickers.get(active));
  const change = ticker ? percentChange(ticker.open, ticker.last) : undefined;
  const places = pricePlaces(info);
  document.title = ticker
    ? `${formatDecimal(ticker.last, places)} ${info.base}/${info.quote} · Hoga`
    : 'Hoga exchange';
  return (
    <div class="trade-layout">
      <aside class="panel markets" aria-label="Markets">
        <SymbolList tickers={tickers} active={active} />
      </aside>
      <section class="panel chart-panel" aria-label={`${active} chart`}>
        <div class="market-header">
          <h1 class="market-title">
            {info.base}
            <span class="muted">/{info.quote}</span>
          </h1>
          <dl class="market-stats">
            <div>
              <dt>Last</dt>
              <dd data-testid="last-price">{ticker ? formatDecimal(ticker.last, places) : '—'}</dd>
            </div>
            <div>
              <dt>24h change</dt>
              <dd class={change?.startsWith('-') ? 'down' : 'up'}>{change ? `${change}%` : '—'}</dd>
            </div>
            <div>
              <dt>24h high</dt>
              <dd>{ticker ? formatDecimal(ticker.high, places) : '—'}</dd>
            </div>
            <div>
              <dt>24h low</dt>
              <dd>{ticker ? formatDecimal(ticker.low, places) : '—'}</dd>
            </div>
            <div>
              <dt>24h volume ({info.base})</dt>
              <dd>{ticker ? formatDecimal(ticker.volume, qtyPlaces(info)) : '—'}</dd>
            </div>
          </dl>
        </div>
        <CandleChart info={info} />
      </section>
      <section class="panel book-panel" aria-label="Order book">
        <OrderBook info={info} onPick={(price) => setPicked({ price, nonce: Date.now() })} />
      </section>
      <section class="panel tape-panel" aria-label="Recent trades">
        <TradeTape info={info} />
      </section>
      <section class="panel form-panel" aria-label="Place order">
        <OrderForm info={info} picked={picked} />
      </section>
      <section class="panel account-panel" aria-label="Your account">
        <AccountPanels info={info} />
      </section>
    </div>
  );
}
