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
  type StopTrigger,
  type SymbolInfo,
  type TimeInForce,
} from '../api.js';
import { pricePlaces, qtyPlaces, useApp } from '../context.js';
import { compareDecimal, formatDecimal, multiplyDecimal, parseDecimal } from '../decimal.js';
import { unitsFor } from '../units.js';

type FieldName = 'price' | 'qty' | 'tif' | 'stopPrice' | 'displayQty' | 'stopLimitPrice' | 'form';
type FieldErrors = Partial<Record<FieldName, string>>;

export type OrderKind =
  | 'limit'
  | 'market'
  | 'stopLimit'
  | 'stopMarket'
  | 'takeProfitLimit'
  | 'takeProfitMarket'
  | 'iceberg'
  | 'oco';

interface KindInfo {
  label: string;
  /** One line on what the order does. */
  help: string;
  type: OrderType;
  trigger?: StopTrigger;
}

/** Every order the form offers, with the engine type and stop trigger it is placed as. */
export const orderKinds: Record<OrderKind, KindInfo> = {
  limit: {
    label: 'Limit',
    help: 'Trades at your price or better; what does not fill waits in the book.',
    type: 'limit',
  },
  market: {
    label: 'Market',
    help: 'Trades at once at the best prices in the book; what cannot fill is cancelled.',
    type: 'market',
  },
  stopLimit: {
    label: 'Stop-limit',
    help: 'Waits until a trade reaches the stop price (a buy at or above it, a sell at or below), then places a limit order at your price.',
    type: 'limit',
    trigger: 'stopLoss',
  },
  stopMarket: {
    label: 'Stop-market',
    help: 'Waits until a trade reaches the stop price (a buy at or above it, a sell at or below), then trades at once at market.',
    type: 'market',
    trigger: 'stopLoss',
  },
  takeProfitLimit: {
    label: 'Take-profit limit',
    help: 'Waits until a trade reaches your target (a buy at or below it, a sell at or above), then places a limit order at your price.',
    type: 'limit',
    trigger: 'takeProfit',
  },
  takeProfitMarket: {
    label: 'Take-profit market',
    help: 'Waits until a trade reaches your target (a buy at or below it, a sell at or above), then trades at once at market.',
    type: 'market',
    trigger: 'takeProfit',
  },
  iceberg: {
    label: 'Iceberg',
    help: 'A limit order that shows only the display quantity in the book and shows the next part each time one fills.',
    type: 'limit',
  },
  oco: {
    label: 'OCO',
    help: 'Two linked orders: a limit at your price and a stop at the stop price; when one fills or triggers, the other is cancelled.',
    type: 'limit',
  },
};

export interface OrderInput {
  price: string;
  qty: string;
  stopPrice: string;
  displayQty: string;
  stopLimitPrice: string;
}

export function validateOrder(info: SymbolInfo, kind: OrderKind, input: OrderInput): FieldErrors {
  const errors: FieldErrors = {};
  const units = unitsFor(info);
  const priceProblem = (text: string, missing: string) =>
    text.trim() === '' ? missing : units.priceProblem(text);
  const qtyProblem = (text: string, missing: string) =>
    text.trim() === '' ? missing : units.qtyProblem(text);
  const { type, trigger } = orderKinds[kind];
  const price = priceProblem(input.price, 'Enter a price.');
  if (type === 'limit' && price) errors.price = price;
  const qty = qtyProblem(input.qty, 'Enter a quantity.');
  if (qty) errors.qty = qty;
  const stop = priceProblem(input.stopPrice, 'Enter a stop price.');
  if ((trigger !== undefined || kind === 'oco') && stop) errors.stopPrice = stop;
  if (kind === 'iceberg') {
    const display = qtyProblem(input.displayQty, 'Enter the quantity to show.');
    if (display) errors.displayQty = display;
    else if (!qty && compareDecimal(input.displayQty, input.qty) >= 0)
      errors.displayQty = 'The display quantity must be less than the quantity.';
  }
  if (kind === 'oco' && input.stopLimitPrice.trim() !== '') {
    const stopLimit = units.priceProblem(input.stopLimitPrice);
    if (stopLimit) errors.stopLimitPrice = stopLimit;
  }
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

const namedFields: readonly FieldName[] = ['stopPrice', 'displayQty', 'stopLimitPrice'];

function serverErrorField(error: ApiError): keyof FieldErrors {
  const named = namedFields.find((field) => field === error.field);
  if (named !== undefined) return named;
  if (error.code === 'INVALID_STOP' || error.code === 'STOP_WOULD_TRIGGER') return 'stopPrice';
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
  INVALID_STOP: 'Stop price is not valid for this order',
  STOP_WOULD_TRIGGER: 'The last trade price has already reached the stop price',
};

const statusLabels: Record<PlaceStatus, string> = {
  pending: 'is pending until its stop price is reached',
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
  const [kind, setKind] = useState<OrderKind>('limit');
  const { type, trigger } = orderKinds[kind];
  const [price, setPrice] = useState('');
  const [qty, setQty] = useState('');
  const [stopPrice, setStopPrice] = useState('');
  const [displayQty, setDisplayQty] = useState('');
  const [stopLimitPrice, setStopLimitPrice] = useState('');
  const [tif, setTif] = useState<TimeInForce>('GTC');
  const [postOnly, setPostOnly] = useState(false);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [notice, setNotice] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (picked) {
      setKind((current) => (orderKinds[current].type === 'limit' ? current : 'limit'));
      setPrice(picked.price);
    }
  }, [picked]);

  useEffect(() => {
    if (type === 'market' && tif === 'GTC') setTif('IOC');
    if ((kind === 'iceberg' || kind === 'oco') && tif !== 'GTC') setTif('GTC');
  }, [type, tif, kind]);

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
    const found = validateOrder(info, kind, { price, qty, stopPrice, displayQty, stopLimitPrice });
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
    const placed =
      kind === 'oco'
        ? await api.placeOco({
            symbol: info.symbol,
            side,
            qty: qty.trim(),
            price: price.trim(),
            stopPrice: stopPrice.trim(),
            stopLimitPrice: stopLimitPrice.trim() === '' ? undefined : stopLimitPrice.trim(),
            clientOrderId: crypto.randomUUID(),
          })
        : await api.placeOrder({
            symbol: info.symbol,
            side,
            type,
            qty: qty.trim(),
            price: type === 'limit' ? price.trim() : undefined,
            tif,
            postOnly: type === 'limit' && tif === 'GTC' && trigger === undefined ? postOnly : undefined,
            stopPrice: trigger === undefined ? undefined : stopPrice.trim(),
            trigger,
            displayQty: kind === 'iceberg' ? displayQty.trim() : undefined,
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
      <label for="order-kind">Order type</label>
      <select
        id="order-kind"
        name="kind"
        value={kind}
        aria-describedby="order-kind-help"
        onChange={(event) => setKind(event.currentTarget.value as OrderKind)}
      >
        {(Object.keys(orderKinds) as OrderKind[]).map((option) => (
          <option key={option} value={option}>
            {orderKinds[option].label}
          </option>
        ))}
      </select>
      <p class="muted kind-help" id="order-kind-help" data-testid="order-kind-help">
        {orderKinds[kind].help}
      </p>
      {(trigger !== undefined || kind === 'oco') && (
        <DecimalField
          id="order-stopPrice"
          label={trigger === 'takeProfit' ? 'Target price' : 'Stop price'}
          hint={`${info.quote}, tick ${info.tickSize}`}
          value={stopPrice}
          error={errors.stopPrice}
          onInput={setStopPrice}
        />
      )}
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
      {kind === 'iceberg' && (
        <DecimalField
          id="order-displayQty"
          label="Display quantity"
          hint={`${info.base}, shown in the book`}
          value={displayQty}
          error={errors.displayQty}
          onInput={setDisplayQty}
        />
      )}
      {kind === 'oco' && (
        <DecimalField
          id="order-stopLimitPrice"
          label="Stop limit price"
          hint="optional; empty = stop-market"
          value={stopLimitPrice}
          error={errors.stopLimitPrice}
          onInput={setStopLimitPrice}
        />
      )}
      {kind !== 'oco' && (
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
              {kind !== 'iceberg' && <option value="IOC">Immediate or cancel</option>}
              {kind !== 'iceberg' && <option value="FOK">Fill or kill</option>}
            </select>
          </div>
          <label class="checkbox">
            <input
              type="checkbox"
              name="postOnly"
              checked={postOnly && type === 'limit' && tif === 'GTC' && trigger === undefined}
              disabled={type !== 'limit' || tif !== 'GTC' || trigger !== undefined}
              onChange={(event) => setPostOnly(event.currentTarget.checked)}
            />
            Post only
          </label>
        </div>
      )}
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

/** A labelled decimal input with its error line (the error is linked for screen readers). */
function DecimalField(props: {
  id: string;
  label: string;
  hint: string;
  value: string;
  error: string | undefined;
  onInput: (value: string) => void;
}) {
  const errorId = `${props.id}-error`;
  return (
    <>
      <label for={props.id}>
        {props.label} <span class="muted">({props.hint})</span>
      </label>
      <input
        id={props.id}
        inputMode="decimal"
        autoComplete="off"
        value={props.value}
        aria-invalid={Boolean(props.error)}
        aria-describedby={props.error ? errorId : undefined}
        onInput={(event) => props.onInput(event.currentTarget.value)}
      />
      {props.error ? (
        <p class="field-error" id={errorId} role="alert">
          {props.error}
        </p>
      ) : null}
    </>
  );
}
