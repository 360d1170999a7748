// Writes planned rows: one multi-row INSERT per table per batch. Each column travels as one array
// parameter and `unnest` turns the arrays back into rows, so the statement text is constant
// whatever the batch size and never meets the 65535-parameter limit of the wire protocol. Where the
// backend takes `COPY ... FROM` (PGlite) a plain insert goes that way instead: PGlite serialises
// and parses array parameters slowly, and COPY measured about three times cheaper per row
// (docs/BENCHMARKS.md, "Read model").
import type {
  BatchRows,
  CouponRow,
  CouponUseRow,
  LedgerRow,
  OrderEventGroupRow,
  OrderRow,
  SymbolRow,
  TradeRow,
} from './plan.js';
import type { SqlExecutor } from './sql.js';

type SqlType = 'bigint' | 'integer' | 'text';

export interface Column<Row> {
  name: string;
  type: SqlType;
  value: (row: Row) => unknown;
}

class BulkInsert<Row> {
  private readonly text: string;
  private readonly names: string[];

  /** An `onConflict` clause keeps the insert on `unnest`: COPY has no conflict handling. */
  constructor(
    private readonly table: string,
    private readonly columns: Column<Row>[],
    private readonly onConflict: string,
  ) {
    this.names = columns.map((column) => column.name);
    const arrays = columns.map((column, index) => `$${index + 1}::${column.type}[]`).join(', ');
    this.text = `INSERT INTO ${table} (${this.names.join(', ')}) SELECT * FROM unnest(${arrays}) ${onConflict}`;
  }

  async run(executor: SqlExecutor, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    if (this.onConflict === '' && executor.copyRows !== undefined) {
      await executor.copyRows(this.table, this.names, copyText(this.columns, rows));
      return;
    }
    const params = this.columns.map((column) => rows.map(column.value));
    await executor.query(this.text, params);
  }
}

/** Rows in COPY's text format: tab between fields, newline after each row, `\N` for null. */
export function copyText<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  let text = '';
  for (const row of rows) {
    for (let index = 0; index < columns.length; index += 1) {
      const column = columns[index];
      const value = column.value(row);
      if (index > 0) text += '\t';
      if (value === null || value === undefined) text += '\\N';
      else if (column.type === 'text') text += copyEscape(String(value));
      else text += copyInteger(value, column.name);
    }
    text += '\n';
  }
  return text;
}

const copySpecial = /[\\\t\n\r]/;

/** COPY's text format takes backslash escapes: the separator, newlines and backslash itself. */
export function copyEscape(value: string): string {
  if (!copySpecial.test(value)) return value;
  return value
    .replaceAll('\\', '\\\\')
    .replaceAll('\t', '\\t')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r');
}

function copyInteger(value: unknown, name: string): string {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  if (typeof value === 'bigint') return String(value);
  throw new Error(`column ${name}: ${String(value)} is not an integer`);
}

const symbolsInsert = new BulkInsert<SymbolRow>(
  'symbols',
  [
    { name: 'symbol', type: 'text', value: (row) => row.symbol },
    { name: 'base', type: 'text', value: (row) => row.base },
    { name: 'quote', type: 'text', value: (row) => row.quote },
    { name: 'lot_size', type: 'bigint', value: (row) => row.lotSize },
    { name: 'tick_size', type: 'bigint', value: (row) => row.tickSize },
    { name: 'maker_fee_bps', type: 'integer', value: (row) => row.makerFeeBps },
    { name: 'taker_fee_bps', type: 'integer', value: (row) => row.takerFeeBps },
    { name: 'seq', type: 'bigint', value: (row) => row.seq },
    { name: 'ts_ms', type: 'bigint', value: (row) => row.tsMs },
  ],
  'ON CONFLICT (symbol) DO NOTHING',
);

const tradesInsert = new BulkInsert<TradeRow>(
  'trades',
  [
    { name: 'trade_id', type: 'bigint', value: (row) => row.tradeId },
    { name: 'seq', type: 'bigint', value: (row) => row.seq },
    { name: 'ts_ms', type: 'bigint', value: (row) => row.tsMs },
    { name: 'symbol', type: 'text', value: (row) => row.symbol },
    { name: 'taker_order_id', type: 'bigint', value: (row) => row.takerOrderId },
    { name: 'maker_order_id', type: 'bigint', value: (row) => row.makerOrderId },
    { name: 'taker_user_id', type: 'bigint', value: (row) => row.takerUserId },
    { name: 'maker_user_id', type: 'bigint', value: (row) => row.makerUserId },
    { name: 'taker_side', type: 'text', value: (row) => row.takerSide },
    { name: 'price', type: 'bigint', value: (row) => row.price },
    { name: 'qty', type: 'bigint', value: (row) => row.qty },
    { name: 'taker_fee', type: 'bigint', value: (row) => row.takerFee },
    { name: 'maker_fee', type: 'bigint', value: (row) => row.makerFee },
  ],
  '',
);

const orderEventGroupsInsert = new BulkInsert<OrderEventGroupRow>(
  'order_event_groups',
  [
    { name: 'order_id', type: 'bigint', value: (row) => row.orderId },
    { name: 'first_seq', type: 'bigint', value: (row) => row.firstSeq },
    { name: 'last_seq', type: 'bigint', value: (row) => row.lastSeq },
    { name: 'ts_ms', type: 'bigint', value: (row) => row.tsMs },
    { name: 'user_id', type: 'bigint', value: (row) => row.userId },
    { name: 'symbol', type: 'text', value: (row) => row.symbol },
    { name: 'side', type: 'text', value: (row) => row.side },
    { name: 'events', type: 'text', value: (row) => row.events },
  ],
  '',
);

const ledgerInsert = new BulkInsert<LedgerRow>(
  'ledger',
  [
    { name: 'seq', type: 'bigint', value: (row) => row.seq },
    { name: 'entry_index', type: 'integer', value: (row) => row.entryIndex },
    { name: 'ts_ms', type: 'bigint', value: (row) => row.tsMs },
    { name: 'user_id', type: 'bigint', value: (row) => row.userId },
    { name: 'asset', type: 'text', value: (row) => row.asset },
    { name: 'kind', type: 'text', value: (row) => row.kind },
    { name: 'amount', type: 'bigint', value: (row) => row.amount },
    { name: 'trade_id', type: 'bigint', value: (row) => row.tradeId },
    { name: 'offering_id', type: 'bigint', value: (row) => row.offeringId },
  ],
  '',
);

/** A coupon issued in an earlier batch exists already: only its uses left change. */
const couponsUpsert = new BulkInsert<CouponRow>(
  'coupons',
  [
    { name: 'user_id', type: 'bigint', value: (row) => row.userId },
    { name: 'offering_id', type: 'bigint', value: (row) => row.offeringId },
    { name: 'issued_seq', type: 'bigint', value: (row) => row.issuedSeq },
    { name: 'issued_ts_ms', type: 'bigint', value: (row) => row.issuedTsMs },
    { name: 'maker_discount_pct', type: 'integer', value: (row) => row.makerDiscountPct },
    { name: 'taker_discount_pct', type: 'integer', value: (row) => row.takerDiscountPct },
    { name: 'expires_ts_ms', type: 'bigint', value: (row) => row.expiresTsMs },
    { name: 'uses', type: 'bigint', value: (row) => row.uses },
    { name: 'uses_left', type: 'bigint', value: (row) => row.usesLeft },
    { name: 'updated_seq', type: 'bigint', value: (row) => row.updatedSeq },
  ],
  `ON CONFLICT (user_id, offering_id)
     DO UPDATE SET uses_left = EXCLUDED.uses_left, updated_seq = EXCLUDED.updated_seq`,
);

const couponUsesInsert = new BulkInsert<CouponUseRow>(
  'coupon_uses',
  [
    { name: 'trade_id', type: 'bigint', value: (row) => row.tradeId },
    { name: 'role', type: 'text', value: (row) => row.role },
    { name: 'seq', type: 'bigint', value: (row) => row.seq },
    { name: 'ts_ms', type: 'bigint', value: (row) => row.tsMs },
    { name: 'user_id', type: 'bigint', value: (row) => row.userId },
    { name: 'offering_id', type: 'bigint', value: (row) => row.offeringId },
    { name: 'asset', type: 'text', value: (row) => row.asset },
    { name: 'full_fee', type: 'bigint', value: (row) => row.fullFee },
    { name: 'fee', type: 'bigint', value: (row) => row.fee },
    { name: 'uses_left', type: 'bigint', value: (row) => row.usesLeft },
  ],
  '',
);

const orderMutableColumns = [
  'filled_qty',
  'remaining_qty',
  'status',
  'reason',
  'updated_seq',
  'updated_ts_ms',
  'triggered_ts_ms',
  'oco_id',
];

const orderColumnsWritten: Column<OrderRow>[] = [
  { name: 'order_id', type: 'bigint', value: (row) => row.orderId },
  { name: 'user_id', type: 'bigint', value: (row) => row.userId },
  { name: 'symbol', type: 'text', value: (row) => row.symbol },
  { name: 'side', type: 'text', value: (row) => row.side },
  { name: 'type', type: 'text', value: (row) => row.type },
  { name: 'tif', type: 'text', value: (row) => row.tif },
  { name: 'price', type: 'bigint', value: (row) => row.price },
  { name: 'qty', type: 'bigint', value: (row) => row.qty },
  { name: 'filled_qty', type: 'bigint', value: (row) => row.filledQty },
  { name: 'remaining_qty', type: 'bigint', value: (row) => row.remainingQty },
  { name: 'status', type: 'text', value: (row) => row.status },
  { name: 'reason', type: 'text', value: (row) => row.reason },
  { name: 'created_seq', type: 'bigint', value: (row) => row.createdSeq },
  { name: 'created_ts_ms', type: 'bigint', value: (row) => row.createdTsMs },
  { name: 'updated_seq', type: 'bigint', value: (row) => row.updatedSeq },
  { name: 'updated_ts_ms', type: 'bigint', value: (row) => row.updatedTsMs },
  { name: 'stop_price', type: 'bigint', value: (row) => row.stopPrice },
  { name: 'trigger', type: 'text', value: (row) => row.trigger },
  { name: 'triggered_ts_ms', type: 'bigint', value: (row) => row.triggeredTsMs },
  { name: 'display_qty', type: 'bigint', value: (row) => row.displayQty },
  { name: 'oco_id', type: 'bigint', value: (row) => row.ocoId },
];

/**
 * Orders the batch accepted are new: a plain insert (a row already there would mean the checkpoint
 * let a batch through twice, and fails the batch). Orders from earlier batches are updated in place.
 */
const ordersInsert = new BulkInsert<OrderRow>('orders', orderColumnsWritten, '');

/**
 * Orders from earlier batches: only the columns that change, matched by id (`order_id` stays the
 * first column, $1, which the `ANY` below names). Only immutable columns are indexed, so these
 * updates are HOT.
 */
const orderUpdateColumns = orderColumnsWritten.filter(
  (column) => column.name === 'order_id' || orderMutableColumns.includes(column.name),
);

const ordersUpdateText = `UPDATE orders SET ${orderMutableColumns.map((name) => `${name} = changed.${name}`).join(', ')}
  FROM unnest(${orderUpdateColumns.map((column, index) => `$${index + 1}::${column.type}[]`).join(', ')})
    AS changed(${orderUpdateColumns.map((column) => column.name).join(', ')})
  WHERE orders.order_id = ANY($1::bigint[]) AND orders.order_id = changed.order_id`;

async function updateOrders(executor: SqlExecutor, rows: readonly OrderRow[]): Promise<void> {
  if (rows.length === 0) return;
  await executor.query(
    ordersUpdateText,
    orderUpdateColumns.map((column) => rows.map(column.value)),
  );
}

export async function writeBatchRows(executor: SqlExecutor, rows: BatchRows): Promise<void> {
  await symbolsInsert.run(executor, rows.symbols);
  await tradesInsert.run(executor, rows.trades);
  await orderEventGroupsInsert.run(executor, rows.orderEventGroups);
  await ledgerInsert.run(executor, rows.ledger);
  await couponsUpsert.run(executor, rows.coupons);
  await couponUsesInsert.run(executor, rows.couponUses);
  const created: OrderRow[] = [];
  const changed: OrderRow[] = [];
  for (const order of rows.orders) (rows.createdOrderIds.has(order.orderId) ? created : changed).push(order);
  await ordersInsert.run(executor, created);
  await updateOrders(executor, changed);
}

export function rowCount(rows: BatchRows): number {
  return (
    rows.symbols.length +
    rows.trades.length +
    rows.orderEventGroups.length +
    rows.ledger.length +
    rows.coupons.length +
    rows.couponUses.length +
    rows.orders.length
  );
}

interface OrderRecordRow {
  order_id: number | string;
  user_id: number | string;
  symbol: string;
  side: string;
  type: string;
  tif: string;
  price: number | string;
  qty: number | string;
  filled_qty: number | string;
  remaining_qty: number | string;
  status: string;
  reason: string | null;
  created_seq: number | string;
  created_ts_ms: number | string;
  updated_seq: number | string;
  updated_ts_ms: number | string;
  stop_price: number | string | null;
  trigger: string | null;
  triggered_ts_ms: number | string | null;
  display_qty: number | string | null;
  oco_id: number | string | null;
}

export const orderColumns =
  'order_id, user_id, symbol, side, type, tif, price, qty, filled_qty, remaining_qty, status, reason, ' +
  'created_seq, created_ts_ms, updated_seq, updated_ts_ms, stop_price, trigger, triggered_ts_ms, ' +
  'display_qty, oco_id';

function numberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

/** node-postgres returns bigint as a string, PGlite as a number: every mapper goes through Number. */
export function orderFromRecord(record: OrderRecordRow): OrderRow {
  return {
    orderId: Number(record.order_id),
    userId: Number(record.user_id),
    symbol: record.symbol,
    side: record.side as OrderRow['side'],
    type: record.type,
    tif: record.tif,
    price: Number(record.price),
    qty: Number(record.qty),
    filledQty: Number(record.filled_qty),
    remainingQty: Number(record.remaining_qty),
    status: record.status as OrderRow['status'],
    reason: record.reason,
    createdSeq: Number(record.created_seq),
    createdTsMs: Number(record.created_ts_ms),
    updatedSeq: Number(record.updated_seq),
    updatedTsMs: Number(record.updated_ts_ms),
    stopPrice: numberOrNull(record.stop_price),
    trigger: record.trigger,
    triggeredTsMs: numberOrNull(record.triggered_ts_ms),
    displayQty: numberOrNull(record.display_qty),
    ocoId: numberOrNull(record.oco_id),
  };
}

interface CouponRecordRow {
  user_id: number | string;
  offering_id: number | string;
  issued_seq: number | string;
  issued_ts_ms: number | string;
  maker_discount_pct: number | string;
  taker_discount_pct: number | string;
  expires_ts_ms: number | string;
  uses: number | string;
  uses_left: number | string;
  updated_seq: number | string;
}

export const couponColumns =
  'user_id, offering_id, issued_seq, issued_ts_ms, maker_discount_pct, taker_discount_pct, ' +
  'expires_ts_ms, uses, uses_left, updated_seq';

export function couponFromRecord(record: CouponRecordRow): CouponRow {
  return {
    userId: Number(record.user_id),
    offeringId: Number(record.offering_id),
    issuedSeq: Number(record.issued_seq),
    issuedTsMs: Number(record.issued_ts_ms),
    makerDiscountPct: Number(record.maker_discount_pct),
    takerDiscountPct: Number(record.taker_discount_pct),
    expiresTsMs: Number(record.expires_ts_ms),
    uses: Number(record.uses),
    usesLeft: Number(record.uses_left),
    updatedSeq: Number(record.updated_seq),
  };
}

/** Every coupon with uses left, per user in issue order. */
export async function readUsableCoupons(executor: SqlExecutor): Promise<Map<number, CouponRow[]>> {
  const records = await executor.query<CouponRecordRow>(
    `SELECT ${couponColumns} FROM coupons WHERE uses_left > 0 ORDER BY user_id, issued_seq`,
  );
  const usable = new Map<number, CouponRow[]>();
  for (const record of records) {
    const coupon = couponFromRecord(record);
    const held = usable.get(coupon.userId);
    if (held === undefined) usable.set(coupon.userId, [coupon]);
    else held.push(coupon);
  }
  return usable;
}

export async function readOrders(executor: SqlExecutor, orderIds: number[]): Promise<Map<number, OrderRow>> {
  const found = new Map<number, OrderRow>();
  if (orderIds.length === 0) return found;
  const records = await executor.query<OrderRecordRow>(
    `SELECT ${orderColumns} FROM orders WHERE order_id = ANY($1::bigint[])`,
    [orderIds],
  );
  for (const record of records) found.set(Number(record.order_id), orderFromRecord(record));
  return found;
}
