// Live market state as Preact hooks over the shared socket. Every channel starts with a snapshot
// from the server; each hook drops its state whenever the socket resets the channel (reconnect,
// sequence gap, depth update-id gap) and rebuilds it from the next snapshot.

import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { PublicTrade, SymbolInfo, Ticker } from './api.js';
import { type DepthLevel, LocalBook } from './book.js';
import { channelNames, readDepth, readTicker, readTrades } from './channels.js';
import type { ConnectionState, ExchangeSocket } from './socket.js';
import { unitsFor } from './units.js';

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

/** The order book: a LocalBook kept from the `depth.<symbol>` snapshot plus U/u diffs. */
export function useDepth(socket: ExchangeSocket, info: SymbolInfo): DepthState {
  const [state, setState] = useState<DepthState>({ bids: [], asks: [], synced: false });
  useEffect(() => {
    const book = new LocalBook();
    const units = unitsFor(info);
    const channel = channelNames.depth(info.symbol);
    const publish = () => {
      const top = book.top(ladderLevels);
      setState({ bids: top.bids, asks: top.asks, synced: book.synced });
    };
    const unsubscribe = socket.subscribe(channel, {
      onReset: () => {
        book.reset();
        publish();
      },
      onMessage: (message) => {
        const depth = readDepth(message.data, units);
        const outcome =
          depth.kind === 'snapshot'
            ? book.applySnapshot(depth.lastUpdateId, depth.bids, depth.asks)
            : book.applyDiff(depth.diff);
        if (outcome === 'gap') socket.resync(channel);
        else publish();
      },
    });
    return unsubscribe;
  }, [socket, info]);
  return state;
}

/** The public trade tape, newest first. */
export function useTrades(socket: ExchangeSocket, info: SymbolInfo): PublicTrade[] {
  const [trades, setTrades] = useState<PublicTrade[]>([]);
  useEffect(() => {
    const units = unitsFor(info);
    setTrades([]);
    return socket.subscribe(channelNames.trades(info.symbol), {
      onReset: () => setTrades([]),
      onMessage: (message) => {
        const incoming = readTrades(message.data, units);
        setTrades((current) => mergeTrades(incoming, message.snapshot ? [] : current));
      },
    });
  }, [socket, info]);
  return trades;
}

function compareIds(left: string, right: string): number {
  return left.length - right.length || (left < right ? -1 : left > right ? 1 : 0);
}

function mergeTrades(incoming: PublicTrade[], current: PublicTrade[]): PublicTrade[] {
  const seen = new Set(current.map((trade) => trade.tradeId));
  const fresh = incoming.filter((trade) => !seen.has(trade.tradeId));
  return [...fresh, ...current].sort((a, b) => compareIds(b.tradeId, a.tradeId)).slice(0, tapeTradesMax);
}

/** A ticker before any trade has only zeros: show dashes instead. */
export function liveTicker(ticker: Ticker | undefined): Ticker | undefined {
  return ticker && ticker.trades > 0 ? ticker : undefined;
}

/** 24h tickers for every listed symbol. */
export function useTickers(socket: ExchangeSocket, symbols: SymbolInfo[]): Map<string, Ticker> {
  const [tickers, setTickers] = useState<Map<string, Ticker>>(new Map());
  useEffect(() => {
    const unsubscribes = symbols.map((info) =>
      socket.subscribe(channelNames.ticker(info.symbol), {
        onReset: () => undefined,
        onMessage: (message) => {
          const ticker = readTicker(message.data, info.symbol, unitsFor(info));
          if (ticker) setTickers((current) => new Map(current).set(info.symbol, ticker));
        },
      }),
    );
    return () => {
      for (const unsubscribe of unsubscribes) unsubscribe();
    };
  }, [socket, symbols]);
  return tickers;
}

/** Calls `callback` at most once per `delayMs`, always with the latest call's effect. */
export function useThrottled(callback: () => void, delayMs: number): () => void {
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, delayMs);
  }, [delayMs]);
}
