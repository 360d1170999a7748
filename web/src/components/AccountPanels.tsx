// The user's side of the screen: open orders (cancel, amend), order history and fills (paged),
// balances with available and locked.

import { useEffect, useState } from 'preact/hooks';
import { useAccountData, useBalances } from '../account.js';
import { type ApiError, api, type Fill, type Order, type Page, type SymbolInfo } from '../api.js';
import { pricePlaces, qtyPlaces, symbolInfo, useApp } from '../context.js';
import { compareDecimal, formatDecimal, isMultipleOf, parseDecimal } from '../decimal.js';
import { formatTime } from '../time.js';

const tabs = [
  { id: 'open', label: 'Open orders' },
  { id: 'pending', label: 'Pending' },
  { id: 'history', label: 'Order history' },
  { id: 'fills', label: 'My trades' },
  { id: 'balances', label: 'Balances' },
] as const;
type TabId = (typeof tabs)[number]['id'];

export function AccountPanels({ info }: { info: SymbolInfo }) {
  const { me } = useApp();
  const [tab, setTab] = useState<TabId>('open');
  if (!me) return <p class="muted">Log in to see your orders and balances.</p>;
  return (
    <>
      <div class="tabs" role="tablist" aria-label="Your account">
        {tabs.map((option) => (
          <button
            key={option.id}
            type="button"
            role="tab"
            id={`tab-${option.id}`}
            aria-selected={tab === option.id}
            aria-controls={`tabpanel-${option.id}`}
            class={tab === option.id ? 'tab active' : 'tab'}
            onClick={() => setTab(option.id)}
          >
            {option.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`tabpanel-${tab}`} aria-labelledby={`tab-${tab}`} class="tabpanel">
        {tab === 'open' && <OpenOrders pending={false} />}
        {tab === 'pending' && <OpenOrders pending={true} />}
        {tab === 'history' && <PagedTable kind="history" />}
        {tab === 'fills' && <PagedTable kind="fills" />}
        {tab === 'balances' && <Balances highlight={[info.base, info.quote]} />}
      </div>
    </>
  );
}

function ErrorLine({ error }: { error: ApiError | null }) {
  return error ? (
    <p class="form-error" role="alert">
      {error.message} ({error.code})
    </p>
  ) : null;
}

/** What starts a pending stop order, e.g. "stop-loss at 50100.00". */
function triggerText(order: Order, info: SymbolInfo | undefined): string {
  const name = order.trigger === 'takeProfit' ? 'take-profit' : 'stop-loss';
  return `${name} at ${formatDecimal(order.stopPrice ?? '', pricePlaces(info))}`;
}

/**
 * Open orders (resting or running) or, with `pending`, stop orders waiting for their trigger:
 * each in its own tab, with cancel; an iceberg shows what the book shows of it, an OCO leg its
 * partner.
 */
function OpenOrders({ pending }: { pending: boolean }) {
  const { symbols, accountChanged } = useApp();
  const orders = useAccountData(api.openOrders);
  const [error, setError] = useState<ApiError | null>(null);
  const [amending, setAmending] = useState<number | null>(null);
  const cancel = async (order: Order) => {
    const result = await api.cancelOrder(order.orderId);
    setError(result.ok ? null : result.error);
    accountChanged();
  };
  const rows = (orders.value ?? []).filter((order) => (order.status === 'pending') === pending);
  return (
    <>
      <ErrorLine error={error ?? orders.error} />
      <table class="orders" data-testid={pending ? 'pending-orders' : 'open-orders'}>
        <thead>
          <tr>
            <th scope="col">Market</th>
            <th scope="col">Side</th>
            {pending && <th scope="col">Trigger</th>}
            <th scope="col">Price</th>
            <th scope="col">Remaining / qty</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((order) => {
            const info = symbolInfo(symbols, order.symbol);
            return (
              <tr key={order.orderId}>
                <td>{order.symbol}</td>
                <td class={order.side === 'buy' ? 'up' : 'down'}>{order.side}</td>
                {pending && <td>{triggerText(order, info)}</td>}
                <td>{order.price ? formatDecimal(order.price, pricePlaces(info)) : 'market'}</td>
                <td>
                  {formatDecimal(order.remainingQty, qtyPlaces(info))} /{' '}
                  {formatDecimal(order.qty, qtyPlaces(info))}
                  {order.visibleQty !== undefined && (
                    <span class="muted"> (shows {formatDecimal(order.visibleQty, qtyPlaces(info))})</span>
                  )}
                  {order.ocoId !== undefined && <span class="muted"> (OCO with #{order.ocoId})</span>}
                </td>
                <td class="actions">
                  {amending === order.orderId ? (
                    <AmendForm order={order} info={info} done={() => setAmending(null)} />
                  ) : (
                    <>
                      <button type="button" class="ghost small" onClick={() => setAmending(order.orderId)}>
                        Amend
                      </button>
                      <button
                        type="button"
                        class="ghost small"
                        onClick={() => cancel(order)}
                        aria-label={`Cancel order ${order.orderId}`}
                      >
                        Cancel
                      </button>
                    </>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {rows.length === 0 && <p class="muted empty">{pending ? 'No pending orders.' : 'No open orders.'}</p>}
    </>
  );
}

/** Amend only reduces the remaining quantity (keeps queue priority), as the engine allows. */
function AmendForm({ order, info, done }: { order: Order; info: SymbolInfo | undefined; done: () => void }) {
  const { accountChanged } = useApp();
  const [qty, setQty] = useState('');
  const [error, setError] = useState('');
  const submit = async (event: Event) => {
    event.preventDefault();
    if (!parseDecimal(qty) || (info && !isMultipleOf(qty, info.lotSize))) {
      setError(`Enter a multiple of ${info?.lotSize ?? 'the lot size'}.`);
      return;
    }
    if (compareDecimal(qty, order.remainingQty) >= 0) {
      setError(
        'Amend can only reduce the quantity (the order keeps its place in the queue). To increase it, cancel and place a new order.',
      );
      return;
    }
    const result = await api.amendOrder(order.orderId, qty);
    accountChanged();
    if (!result.ok) setError(`${result.error.message} (${result.error.code})`);
    else done();
  };
  return (
    <form class="amend" onSubmit={submit}>
      <label for={`amend-${order.orderId}`} class="visually-hidden">
        New quantity
      </label>
      <input
        id={`amend-${order.orderId}`}
        inputMode="decimal"
        placeholder="new qty"
        value={qty}
        aria-invalid={Boolean(error)}
        onInput={(event) => setQty(event.currentTarget.value)}
      />
      <button type="submit" class="small primary">
        Save
      </button>
      <button type="button" class="small ghost" onClick={done}>
        Back
      </button>
      {error && (
        <span class="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}

function PagedTable({ kind }: { kind: 'history' | 'fills' }) {
  const { symbols, accountVersion } = useApp();
  /** Cursors of the pages walked so far; the last one is shown (null: the newest page). */
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1];
  const [page, setPage] = useState<Page<Order> | Page<Fill> | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  useEffect(() => {
    let active = true;
    const load = kind === 'history' ? api.orderHistory(cursor) : api.myTrades(cursor);
    void load.then((result) => {
      if (!active) return;
      if (result.ok) setPage(result.value);
      setError(result.ok ? null : result.error);
    });
    return () => {
      active = false;
    };
  }, [kind, cursor, accountVersion]);
  const items = page?.items ?? [];
  return (
    <>
      <ErrorLine error={error} />
      <table class="orders" data-testid={kind === 'history' ? 'order-history' : 'my-trades'}>
        <thead>
          {kind === 'history' ? (
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Market</th>
              <th scope="col">Side</th>
              <th scope="col">Type</th>
              <th scope="col">Price</th>
              <th scope="col">Filled / qty</th>
              <th scope="col">Status</th>
            </tr>
          ) : (
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Market</th>
              <th scope="col">Side</th>
              <th scope="col">Price</th>
              <th scope="col">Qty</th>
              <th scope="col">Fee</th>
              <th scope="col">Role</th>
            </tr>
          )}
        </thead>
        <tbody>
          {kind === 'history'
            ? (items as Order[]).map((order) => {
                const info = symbolInfo(symbols, order.symbol);
                return (
                  <tr key={order.orderId}>
                    <td class="muted">{formatTime(order.createdAtMs)}</td>
                    <td>{order.symbol}</td>
                    <td class={order.side === 'buy' ? 'up' : 'down'}>{order.side}</td>
                    <td>{order.type}</td>
                    <td>{order.price ? formatDecimal(order.price, pricePlaces(info)) : 'market'}</td>
                    <td>
                      {formatDecimal(order.filledQty, qtyPlaces(info))} /{' '}
                      {formatDecimal(order.qty, qtyPlaces(info))}
                    </td>
                    <td>
                      {order.status}
                      {order.reason ? <span class="muted"> ({order.reason})</span> : null}
                    </td>
                  </tr>
                );
              })
            : (items as Fill[]).map((fill) => {
                const info = symbolInfo(symbols, fill.symbol);
                return (
                  <tr key={`${fill.tradeId}-${fill.orderId}`}>
                    <td class="muted">{formatTime(fill.atMs)}</td>
                    <td>{fill.symbol}</td>
                    <td class={fill.side === 'buy' ? 'up' : 'down'}>{fill.side}</td>
                    <td>{formatDecimal(fill.price, pricePlaces(info))}</td>
                    <td>{formatDecimal(fill.qty, qtyPlaces(info))}</td>
                    <td>
                      {fill.fee} {fill.feeAsset}
                    </td>
                    <td>{fill.role}</td>
                  </tr>
                );
              })}
        </tbody>
      </table>
      {items.length === 0 && <p class="muted empty">Nothing here yet.</p>}
      <div class="pager">
        <button
          type="button"
          class="ghost small"
          disabled={cursors.length === 1}
          onClick={() => setCursors(cursors.slice(0, -1))}
        >
          Newer
        </button>
        <span class="muted">Page {cursors.length}</span>
        <button
          type="button"
          class="ghost small"
          disabled={!page?.next}
          onClick={() => page?.next && setCursors([...cursors, page.next])}
        >
          Older
        </button>
      </div>
    </>
  );
}

function Balances({ highlight }: { highlight: string[] }) {
  const balances = useBalances();
  const rows = balances.value ?? [];
  return (
    <>
      <ErrorLine error={balances.error} />
      <table class="balances" data-testid="balances">
        <thead>
          <tr>
            <th scope="col">Asset</th>
            <th scope="col">Available</th>
            <th scope="col">Locked</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((balance) => (
            <tr
              key={balance.asset}
              class={highlight.includes(balance.asset) ? 'highlight' : ''}
              data-asset={balance.asset}
            >
              <td>{balance.asset}</td>
              <td class="available">{balance.available}</td>
              <td class="locked">{balance.locked}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {rows.length === 0 && <p class="muted empty">No balances yet.</p>}
    </>
  );
}
