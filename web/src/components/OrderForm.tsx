// Order entry. Checked against the tick and lot sizes with exact decimal arithmetic before it is
// sent; the server's answer (or its error, next to the field it names) is shown right here.

import { useEffect, useState } from 'preact/hooks';
import { balanceOf, useBalances } from '../account.js';
import {
  type ApiError,
  api,
  type OrderType,
  type PlaceOrderReply,
  type PlaceStatus,
  type Side,
  type SymbolInfo,
  type TimeInForce,
} from '../api.js';
import { pricePlaces, qtyPlaces, useApp } from '../context.js';
import { compareDecimal, formatDecimal, multiplyDecimal, parseDecimal } from '../decimal.js';
import { unitsFor } from '../units.js';

type FieldErrors = Partial<Record<'price' | 'qty' | 'tif' | 'form', string>>;

export function validateOrder(info: SymbolInfo, type: OrderType, price: string, qty: string): FieldErrors {
  const errors: FieldErrors = {};
  const units = unitsFor(info);
  const priceProblem = price.trim() === '' ? 'Enter a price.' : units.priceProblem(price);
  const qtyProblem = qty.trim() === '' ? 'Enter a quantity.' : units.qtyProblem(qty);
  if (type === 'limit' && priceProblem) errors.price = priceProblem;
  if (qtyProblem) errors.qty = qtyProblem;
  return errors;
}

/**
 * Why the account cannot pay for this order, or undefined when it can (or cannot be known here).
 * A limit buy reserves price × quantity of the quote asset, a sell its quantity of the base asset,
 * as the engine does; a market buy's cost is only known when it matches (the engine fills what
 * the balance affords), so the server decides that one. Amounts in the asset's own decimals.
 */
export function fundsProblem(
  info: SymbolInfo,
  side: Side,
  type: OrderType,
  price: string,
  qty: string,
  available: string,
): string | undefined {
  if (side === 'buy' && type === 'market') return undefined;
  const needed = side === 'buy' ? multiplyDecimal(price.trim(), qty.trim()) : qty.trim();
  if (needed === undefined || compareDecimal(needed, available) <= 0) return undefined;
  const asset = side === 'buy' ? info.quote : info.base;
  const places = side === 'buy' ? info.quoteDecimals : info.baseDecimals;
  return `Not enough ${asset}: this order needs ${formatDecimal(needed, places)} ${asset} and ${formatDecimal(available, places)} ${asset} is available.`;
}

/** The server's sentence with a capital letter and a full stop, for messages that carry amounts. */
function sentence(message: string): string {
  const capital = message.charAt(0).toUpperCase() + message.slice(1);
  return capital.endsWith('.') ? capital : `${capital}.`;
}

function serverErrorField(error: ApiError): keyof FieldErrors {
  if (error.field === 'price' || error.code === 'INVALID_PRICE' || error.code === 'POST_ONLY_WOULD_CROSS')
    return 'price';
  if (error.field === 'qty' || error.code === 'INVALID_QTY' || error.code === 'INSUFFICIENT_FUNDS')
    return 'qty';
  if (error.field === 'tif' || error.code === 'INVALID_TIF') return 'tif';
  return 'form';
}

/** What the engine's reject codes mean to someone placing an order. */
const rejectMessages: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'Not enough available balance',
  POST_ONLY_WOULD_CROSS: 'Post-only order would trade at once',
  INVALID_PRICE: 'Price is not valid for this market',
  INVALID_QTY: 'Quantity is not valid for this market',
  INVALID_TIF: 'Time in force does not fit this order',
  LIMIT_EXCEEDED: 'Too many open orders',
};

const statusLabels: Record<PlaceStatus, string> = {
  resting: 'is resting in the book',
  partiallyFilled: 'partly filled; the rest is in the book',
  filled: 'filled',
  expired: 'expired',
  rejected: 'rejected',
};

function describePlaced(side: Side, reply: PlaceOrderReply): string {
  const verb = side === 'buy' ? 'Buy' : 'Sell';
  return `${verb} order ${statusLabels[reply.status]}: filled ${reply.filledQty}, resting ${reply.restingQty}${
    reply.status === 'expired' || reply.expiredQty !== '0' ? `, expired ${reply.expiredQty}` : ''
  }.`;
}

/** A price picked in the book or tape, handed to the order form by the trading screen. */
export interface PickedPrice {
  price: string;
  /** Changes on every click so the same price picked twice still refills the form. */
  nonce: number;
}

export function OrderForm({ info, picked }: { info: SymbolInfo; picked: PickedPrice | null }) {
  const { me, accountChanged } = useApp();
  const balances = useBalances();
  const [side, setSide] = useState<Side>('buy');
  const [type, setType] = useState<OrderType>('limit');
  const [price, setPrice] = useState('');
  const [qty, setQty] = useState('');
  const [tif, setTif] = useState<TimeInForce>('GTC');
  const [postOnly, setPostOnly] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (picked) {
      setType('limit');
      setPrice(picked.price);
    }
  }, [picked]);

  useEffect(() => {
    if (type === 'market' && tif === 'GTC') setTif('IOC');
  }, [type, tif]);

  if (!me) {
    return (
      <div class="login-to-trade">
        <h2 class="panel-title">Place order</h2>
        <p class="muted">Log in to trade {info.symbol}.</p>
        <a class="button primary wide" href="#/login">
          Log in
        </a>
        <a class="button ghost wide" href="#/register">
          Create an account
        </a>
      </div>
    );
  }

  const spendAsset = side === 'buy' ? info.quote : info.base;
  const available = balanceOf(balances.value, spendAsset).available;
  const total =
    type === 'limit' && parseDecimal(price.trim()) && parseDecimal(qty.trim())
      ? multiplyDecimal(price.trim(), qty.trim())
      : undefined;

  const submit = async (event: Event) => {
    event.preventDefault();
    const found = validateOrder(info, type, price, qty);
    // Balances not loaded yet: the server checks funds anyway.
    const unaffordable =
      Object.keys(found).length === 0 && balances.value !== undefined
        ? fundsProblem(info, side, type, price, qty, available)
        : undefined;
    if (unaffordable) found.qty = unaffordable;
    setErrors(found);
    setNotice('');
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    const placed = await api.placeOrder({
      symbol: info.symbol,
      side,
      type,
      qty: qty.trim(),
      price: type === 'limit' ? price.trim() : undefined,
      tif,
      postOnly: type === 'limit' && tif === 'GTC' ? postOnly : undefined,
      clientOrderId: crypto.randomUUID(),
    });
    setBusy(false);
    accountChanged();
    if (!placed.ok) {
      const { code, message } = placed.error;
      // INSUFFICIENT_FUNDS from the server says what the order needs and what is available.
      const text = code === 'INSUFFICIENT_FUNDS' ? sentence(message) : (rejectMessages[code] ?? message);
      setErrors({ [serverErrorField(placed.error)]: `${text} (${code})` });
      return;
    }
    const reply = placed.value;
    if (reply.status === 'rejected') {
      const code = reply.rejectCode ?? 'REJECTED';
      setErrors({
        [serverErrorField({ code, message: '' })]: `${rejectMessages[code] ?? 'Rejected'} (${code})`,
      });
      return;
    }
    setNotice(describePlaced(side, reply));
  };

  const describedBy = (field: keyof FieldErrors) => (errors[field] ? `order-${field}-error` : undefined);
  const fieldError = (field: keyof FieldErrors) =>
    errors[field] ? (
      <p class="field-error" id={`order-${field}-error`} role="alert">
        {errors[field]}
      </p>
    ) : null;

  return (
    <form class={`order-form ${side}`} onSubmit={submit} noValidate aria-label={`Place ${side} order`}>
      <h2 class="panel-title">Place order</h2>
      <fieldset class="segmented">
        <legend class="visually-hidden">Side</legend>
        {(['buy', 'sell'] as const).map((option) => (
          <label key={option} class={`segment ${option} ${side === option ? 'checked' : ''}`}>
            <input
              type="radio"
              name="side"
              value={option}
              checked={side === option}
              onChange={() => setSide(option)}
            />
            {option === 'buy' ? 'Buy' : 'Sell'}
          </label>
        ))}
      </fieldset>
      <fieldset class="segmented small">
        <legend class="visually-hidden">Order type</legend>
        {(['limit', 'market'] as const).map((option) => (
          <label key={option} class={`segment ${type === option ? 'checked' : ''}`}>
            <input
              type="radio"
              name="type"
              value={option}
              checked={type === option}
              onChange={() => setType(option)}
            />
            {option === 'limit' ? 'Limit' : 'Market'}
          </label>
        ))}
      </fieldset>
      {type === 'limit' && (
        <>
          <label for="order-price">
            Price{' '}
            <span class="muted">
              ({info.quote}, tick {info.tickSize})
            </span>
          </label>
          <input
            id="order-price"
            name="price"
            inputMode="decimal"
            autoComplete="off"
            value={price}
            aria-invalid={Boolean(errors.price)}
            aria-describedby={describedBy('price')}
            onInput={(event) => setPrice(event.currentTarget.value)}
          />
          {fieldError('price')}
        </>
      )}
      <label for="order-qty">
        Quantity{' '}
        <span class="muted">
          ({info.base}, lot {info.lotSize})
        </span>
      </label>
      <input
        id="order-qty"
        name="qty"
        inputMode="decimal"
        autoComplete="off"
        value={qty}
        aria-invalid={Boolean(errors.qty)}
        aria-describedby={describedBy('qty')}
        onInput={(event) => setQty(event.currentTarget.value)}
      />
      {fieldError('qty')}
      <div class="form-row">
        <div>
          <label for="order-tif">Time in force</label>
          <select
            id="order-tif"
            name="tif"
            value={tif}
            aria-describedby={describedBy('tif')}
            onChange={(event) => setTif(event.currentTarget.value as TimeInForce)}
          >
            {type === 'limit' && <option value="GTC">Good till cancelled</option>}
            <option value="IOC">Immediate or cancel</option>
            <option value="FOK">Fill or kill</option>
          </select>
        </div>
        <label class="checkbox">
          <input
            type="checkbox"
            name="postOnly"
            checked={postOnly && type === 'limit' && tif === 'GTC'}
            disabled={type !== 'limit' || tif !== 'GTC'}
            onChange={(event) => setPostOnly(event.currentTarget.checked)}
          />
          Post only
        </label>
      </div>
      {fieldError('tif')}
      <dl class="order-summary">
        <div>
          <dt>Available</dt>
          <dd data-testid="form-available">
            {formatDecimal(available, side === 'buy' ? pricePlaces(info) : qtyPlaces(info))} {spendAsset}
          </dd>
        </div>
        <div>
          <dt>Total</dt>
          <dd>{total ? `${formatDecimal(total, pricePlaces(info))} ${info.quote}` : '—'}</dd>
        </div>
      </dl>
      {fieldError('form')}
      <button type="submit" class={`wide ${side === 'buy' ? 'buy' : 'sell'}`} disabled={busy}>
        {busy ? 'Sending…' : `${side === 'buy' ? 'Buy' : 'Sell'} ${info.base}`}
      </button>
      <output class="notice" aria-live="polite" data-testid="order-notice">
        {notice}
      </output>
    </form>
  );
}
