// What every screen shares: the socket, the listed symbols, the logged-in user, and a counter
// that bumps whenever account data (balances, orders, fills) may have changed.

import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Me, SymbolInfo } from './api.js';
import { fractionDigits } from './decimal.js';
import type { ExchangeSocket } from './socket.js';

export interface AppContextValue {
  socket: ExchangeSocket;
  symbols: SymbolInfo[];
  me: Me | null;
  /** Changes whenever balances, orders or fills may have changed. */
  accountVersion: number;
  accountChanged(): void;
  loggedIn(me: Me): void;
  /** Local log out (this tab), e.g. after the server ended the session. */
  loggedOut(): void;
  navigate(route: string): void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside AppContext');
  return value;
}

export function symbolInfo(symbols: SymbolInfo[], symbol: string): SymbolInfo | undefined {
  return symbols.find((candidate) => candidate.symbol === symbol);
}

/** Display places for prices and quantities: those of the tick and lot sizes. */
export function pricePlaces(info: SymbolInfo | undefined): number {
  return info ? fractionDigits(info.tickSize) : 2;
}

export function qtyPlaces(info: SymbolInfo | undefined): number {
  return info ? fractionDigits(info.lotSize) : 4;
}
