// Account data refreshed whenever the account may have changed (own actions, private stream).

import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, type Balance, type Result } from './api.js';
import { useApp } from './context.js';

export interface Loaded<T> {
  value: T | undefined;
  error: ApiError | null;
}

/** Loads `load()` after login and again every time accountVersion changes. */
export function useAccountData<T>(load: () => Promise<Result<T>>): Loaded<T> {
  const { me, accountVersion } = useApp();
  const [state, setState] = useState<Loaded<T>>({ value: undefined, error: null });
  useEffect(() => {
    if (!me) {
      setState({ value: undefined, error: null });
      return;
    }
    let active = true;
    void load().then((result) => {
      if (!active) return;
      setState(result.ok ? { value: result.value, error: null } : { value: undefined, error: result.error });
    });
    return () => {
      active = false;
    };
  }, [me, accountVersion]);
  return state;
}

export function useBalances(): Loaded<Balance[]> {
  return useAccountData(api.balances);
}

export function balanceOf(balances: Balance[] | undefined, asset: string): Balance {
  return balances?.find((balance) => balance.asset === asset) ?? { asset, available: '0', locked: '0' };
}
