// Live market state as Preact hooks over the shared socket. Each hook rebuilds its state from
// scratch whenever the socket tells it to reset (reconnect, sequence gap, server reset).

import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type PublicTrade, type Ticker } from './api.js';
import { type DepthLevel, LocalBook } from './book.js';
import { channelNames, readDepth, readTicker, readTrade } from './channels.js';
import type { ConnectionState, ExchangeSocket } from './socket.js';

/** Trades kept in the tape. */
export const tapeTradesMax = 40;
/** Levels shown per side of the ladder. */
export const ladderLevels = 12;

export function useConnectionState(socket: ExchangeSocket): ConnectionState {
  const [state, setState] = useState<ConnectionState>(socket.connectionState);
  useEffect(() => socket.onState(setState), [socket]);
  return state;
}

export interface DepthState {
  bids: DepthLevel[];
  asks: DepthLevel[];
  synced: boolean;
}

/** The order book: a LocalBook fed by `depth.<symbol>`, resynced from the REST snapshot. */
export function useDepth(socket: ExchangeSocket, symbol: string): DepthState {
  const [state, setState] = useState<DepthState>({ bids: [], asks: [], synced: false });
  useEffect(() => {
    const book = new LocalBook();
    let generation = 0;
    let active = true;
    const publish = () => {
      if (!active) return;
      const top = book.top(ladderLevels);
      setState({ bids: top.bids, asks: top.asks, synced: book.synced });
    };
    const resync = async () => {
      generation += 1;
      const mine = generation;
      book.reset();
      publish();
      const snapshot = await api.depth(symbol);
      if (!active || mine !== generation || !snapshot.ok) return;
      const outcome = book.applySnapshot(
        snapshot.value.lastUpdateId,
        snapshot.value.bids,
        snapshot.value.asks,
      );
      if (outcome === 'gap') void resync();
      else publish();
    };
    const unsubscribe = socket.subscribe(channelNames.depth(symbol), {
      onReset: () => void resync(),
      onMessage: (message) => {
        const depth = readDepth(message.data);
        if (depth.kind === 'snapshot') {
          generation += 1;
          book.reset();
          book.applySnapshot(depth.lastUpdateId, depth.bids, depth.asks);
        } else if (book.applyDiff(depth.diff) === 'gap') {
          void resync();
          return;
        }
        publish();
      },
    });
    void resync();
    return () => {
      active = false;
      unsubscribe();
    };
  }, [socket, symbol]);
  return state;
}

/** The public trade tape, newest first, refilled from REST after every reset. */
export function useTrades(socket: ExchangeSocket, symbol: string): PublicTrade[] {
  const [trades, setTrades] = useState<PublicTrade[]>([]);
  useEffect(() => {
    let active = true;
    const reload = async () => {
      const recent = await api.trades(symbol);
      if (active && recent.ok) setTrades(newestFirst(recent.value).slice(0, tapeTradesMax));
    };
    const unsubscribe = socket.subscribe(channelNames.trades(symbol), {
      onReset: () => void reload(),
      onMessage: (message) => {
        const items = Array.isArray(message.data) ? message.data : [message.data];
        const incoming = items.map(readTrade);
        setTrades((current) => mergeTrades(incoming, current));
      },
    });
    setTrades([]);
    void reload();
    return () => {
      active = false;
      unsubscribe();
    };
  }, [socket, symbol]);
  return trades;
}

function newestFirst(trades: PublicTrade[]): PublicTrade[] {
  return [...trades].sort((a, b) => compareIds(b.tradeId, a.tradeId));
}

function compareIds(left: string, right: string): number {
  return left.length - right.length || (left < right ? -1 : left > right ? 1 : 0);
}

function mergeTrades(incoming: PublicTrade[], current: PublicTrade[]): PublicTrade[] {
  const seen = new Set(current.map((trade) => trade.tradeId));
  const fresh = incoming.filter((trade) => !seen.has(trade.tradeId));
  return newestFirst([...fresh, ...current]).slice(0, tapeTradesMax);
}

/** 24h tickers for every listed symbol. */
export function useTickers(socket: ExchangeSocket, symbols: string[]): Map<string, Ticker> {
  const [tickers, setTickers] = useState<Map<string, Ticker>>(new Map());
  const key = symbols.join(',');
  useEffect(() => {
    let active = true;
    const reload = async () => {
      const all = await api.tickers();
      if (active && all.ok) setTickers(new Map(all.value.map((ticker) => [ticker.symbol, ticker])));
    };
    const unsubscribes = symbols.map((symbol) =>
      socket.subscribe(channelNames.ticker(symbol), {
        onReset: () => void reload(),
        onMessage: (message) => {
          const ticker = readTicker(message.data, symbol);
          setTickers((current) => new Map(current).set(symbol, ticker));
        },
      }),
    );
    void reload();
    return () => {
      active = false;
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
    // `key` stands for `symbols`: a new array with the same names must not resubscribe.
  }, [socket, key]);
  return tickers;
}

/** Calls `callback` at most once per `delayMs`, always with the latest call's effect. */
export function useThrottled(callback: () => void, delayMs: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => () => clearTimeout(timer.current), []);
  return () => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, delayMs);
  };
}
