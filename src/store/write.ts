// Writes planned rows: one multi-row INSERT per table per batch. Each column travels as one array
// parameter and `unnest` turns the arrays back into rows, so the statement text is constant
// whatever the batch size and never meets the 65535-parameter limit of the wire protocol.
import type { BatchRows, LedgerRow, OrderEventRow, OrderRow, SymbolRow, TradeRow } from './plan.js';
import type { SqlExecutor } from './sql.js';

type SqlType = 'bigint' | 'integer' | 'text';

interface Column<Row> {
  name: string;
  type: SqlType;
  value: (row: Row) => unknown;
}

class BulkInsert<Row> {
  private readonly text: string;

  constructor(
    table: string,
    private readonly columns: Column<Row>[],
    onConflict: string,
  ) {
    const names = columns.map((column) => column.name).join(', ');
    const arrays = columns.map((column, index) => `$${index + 1}::${column.type}[]`).join(', ');
    this.text = `INSERT INTO ${table} (${names}) SELECT * FROM unnest(${arrays}) ${onConflict}`;
  }

  async run(executor: SqlExecutor, rows: readonly Row[]): Promise<void> {
    if (rows.length === 0) return;
    const params = this.columns.map((column) => rows.map(column.value));
    await executor.query(this.text, params);
  }
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

const orderEventsInsert = new BulkInsert<OrderEventRow>(
  'order_events',
  [
    { name: 'seq', type: 'bigint', value: (row) => row.seq },
    { name: 'event_index', type: 'integer', value: (row) => row.eventIndex },
    { name: 'ts_ms', type: 'bigint', value: (row) => row.tsMs },
    { name: 'order_id', type: 'bigint', value: (row) => row.orderId },
    { name: 'user_id', type: 'bigint', value: (row) => row.userId },
    { name: 'symbol', type: 'text', value: (row) => row.symbol },
    { name: 'kind', type: 'text', value: (row) => row.kind },
    { name: 'side', type: 'text', value: (row) => row.side },
    { name: 'price', type: 'bigint', value: (row) => row.price },
    { name: 'qty', type: 'bigint', value: (row) => row.qty },
    { name: 'reason', type: 'text', value: (row) => row.reason },
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
];

const ordersUpsert = new BulkInsert<OrderRow>(
  'orders',
  [
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
  ],
  `ON CONFLICT (order_id) DO UPDATE SET ${orderMutableColumns.map((name) => `${name} = excluded.${name}`).join(', ')}`,
);

export async function writeBatchRows(executor: SqlExecutor, rows: BatchRows): Promise<void> {
  await symbolsInsert.run(executor, rows.symbols);
  await tradesInsert.run(executor, rows.trades);
  await orderEventsInsert.run(executor, rows.orderEvents);
  await ledgerInsert.run(executor, rows.ledger);
  await ordersUpsert.run(executor, rows.orders);
}

export function rowCount(rows: BatchRows): number {
  return (
    rows.symbols.length +
    rows.trades.length +
    rows.orderEvents.length +
    rows.ledger.length +
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
}

export const orderColumns =
  'order_id, user_id, symbol, side, type, tif, price, qty, filled_qty, remaining_qty, status, reason, ' +
  'created_seq, created_ts_ms, updated_seq, updated_ts_ms';

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
  };
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
