// Markets with last price and 24h change; choosing one switches every panel.

import type { Ticker } from '../api.js';
import { pricePlaces, useApp } from '../context.js';
import { formatDecimal, percentChange } from '../decimal.js';
import { liveTicker } from '../hooks.js';

export function SymbolList({ tickers, active }: { tickers: Map<string, Ticker>; active: string }) {
  const { symbols } = useApp();
  return (
    <>
      <h2 class="panel-title">Markets</h2>
      <ul class="symbol-list">
        {symbols.map((info) => {
          const ticker = liveTicker(tickers.get(info.symbol));
          const change = ticker ? percentChange(ticker.open, ticker.last) : undefined;
          return (
            <li key={info.symbol}>
              <a
                href={`#/trade/${encodeURIComponent(info.symbol)}`}
                class={info.symbol === active ? 'symbol active' : 'symbol'}
                aria-current={info.symbol === active ? 'page' : undefined}
                data-testid={`symbol-${info.symbol}`}
              >
                <span class="symbol-name">
                  {info.base}
                  <span class="muted">/{info.quote}</span>
                </span>
                <span class="symbol-last">
                  {ticker ? formatDecimal(ticker.last, pricePlaces(info)) : '—'}
                </span>
                <span class={`symbol-change ${change?.startsWith('-') ? 'down' : 'up'}`}>
                  {change ? `${change.startsWith('-') ? '' : '+'}${change}%` : ''}
                </span>
              </a>
            </li>
          );
        })}
      </ul>
    </>
  );
}
