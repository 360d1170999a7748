// History queries for the gateway: keyset pagination (newest first, except candles, oldest first)
// over the indexes the schema defines, with a bounded page size.
import { FEE_USER } from '../core/engine.js';
import type { Side } from '../core/types.js';
import { decodeCursor, encodeCursor, pageOf, pageSizeOf } from './cursor.js';
import { StoreError } from './errors.js';
import type { CouponRow, FeeRole, LedgerKind, OrderEventKind, OrderRow } from './plan.js';
import type { HistoryQuery, Page } from './ports.js';
import type { SqlExecutor } from './sql.js';
import { couponColumns, couponFromRecord, orderColumns, orderFromRecord } from './write.js';

/** Above every engine id: the "no cursor yet" bound of a descending keyset. */
const keyAboveAll = '9223372036854775807';

export type OrderRecord = OrderRow;

export interface TradeRecord {
  tradeId: number;
  seq: number;
  tsMs: number;
  symbol: string;
  /** The taker's side. */
  side: Side;
  price: number;
  qty: number;
}

export interface UserTradeRecord {
  tradeId: number;
  seq: number;
  tsMs: number;
  symbol: string;
  orderId: number;
  /** This user's side. */
  side: Side;
  role: 'taker' | 'maker';
  price: number;
  qty: number;
  fee: number;
}

export interface LedgerRecord {
  seq: number;
  /** The entry's index among its command's `ledger` rows, or for a fill's leg its trade id. */
  entryIndex: number;
  /** 0 for a `ledger` row, 1-8 for a fill's legs (docs/OPERATIONS.md "The ledger"). */
  leg: number;
  tsMs: number;
  asset: string;
  kind: LedgerKind;
  amount: number;
  tradeId: number | null;
  offeringId: number | null;
}

export type CouponRecord = Omit<CouponRow, 'userId'>;

export interface CouponUseRecord {
  tradeId: number;
  role: FeeRole;
  seq: number;
  tsMs: number;
  offeringId: number;
  asset: string;
  fullFee: number;
  fee: number;
  usesLeft: number;
}

export interface OrderEventRecord {
  seq: number;
  eventIndex: number;
  tsMs: number;
  kind: OrderEventKind;
  price: number;
  qty: number;
  reason: string | null;
}

type Numeric = number | string;

export class HistoryQueries {
  constructor(private readonly executor: SqlExecutor) {}

  async ordersOfUser(userId: number, query: HistoryQuery): Promise<Page<OrderRecord>> {
    const pageSize = pageSizeOf(query);
    const [orderId] = decodeCursor(query.cursor, 1) ?? [keyAboveAll];
    const records = await this.executor.query<Parameters<typeof orderFromRecord>[0]>(
      `SELECT ${orderColumns} FROM orders WHERE user_id = $1 AND order_id < $2
        ORDER BY order_id DESC LIMIT $3`,
      [userId, orderId, pageSize + 1],
    );
    return pageOf(records.map(orderFromRecord), pageSize, (order) => [order.orderId]);
  }

  /** One of the user's orders; undefined when it does not exist or belongs to someone else. */
  async orderOfUser(userId: number, orderId: number): Promise<OrderRecord | undefined> {
    const records = await this.executor.query<Parameters<typeof orderFromRecord>[0]>(
      `SELECT ${orderColumns} FROM orders WHERE user_id = $1 AND order_id = $2`,
      [userId, orderId],
    );
    return records.length === 0 ? undefined : orderFromRecord(records[0]);
  }

  /**
   * An order's events, oldest first. They are stored as one row per order and projector batch
   * (`order_event_groups`): only groups that end at or after the cursor are read and unpacked.
   */
  async eventsOfOrder(userId: number, orderId: number, query: HistoryQuery): Promise<Page<OrderEventRecord>> {
    const pageSize = pageSizeOf(query);
    const [seq, eventIndex] = decodeCursor(query.cursor, 2) ?? [0, -1];
    const records = await this.executor.query<{
      seq: Numeric;
      event_index: Numeric;
      ts_ms: Numeric;
      kind: string;
      price: Numeric;
      qty: Numeric;
      reason: string | null;
    }>(
      `SELECT (event->>0)::bigint AS seq, (event->>1)::integer AS event_index, (event->>2)::bigint AS ts_ms,
              event->>3 AS kind, (event->>4)::bigint AS price, (event->>5)::bigint AS qty, event->>6 AS reason
         FROM order_event_groups groups, json_array_elements(groups.events::json) AS event
        WHERE groups.order_id = $1 AND groups.user_id = $2 AND groups.last_seq >= $3
          AND ((event->>0)::bigint, (event->>1)::integer) > ($3, $4)
        ORDER BY 1, 2 LIMIT $5`,
      [orderId, userId, seq, eventIndex, pageSize + 1],
    );
    const items = records.map((record) => ({
      seq: Number(record.seq),
      eventIndex: Number(record.event_index),
      tsMs: Number(record.ts_ms),
      kind: record.kind as OrderEventKind,
      price: Number(record.price),
      qty: Number(record.qty),
      reason: record.reason,
    }));
    return pageOf(items, pageSize, (event) => [event.seq, event.eventIndex]);
  }

  /**
   * A user's fills, newest first. A self-trade is two fills (taker and maker), so the key is
   * (tradeId, role): taker 0, maker 1, and in descending order the maker fill comes first.
   */
  async tradesOfUser(userId: number, query: HistoryQuery): Promise<Page<UserTradeRecord>> {
    const pageSize = pageSizeOf(query);
    const cursor = decodeCursor(query.cursor, 2);
    if (cursor !== undefined && cursor[1] > 1)
      throw new StoreError('INVALID_CURSOR', 'unknown role in cursor');
    // Rows after (tradeId, role) in descending order: takers (role 0) below tradeId, or equal to
    // it when the cursor stopped at that trade's maker fill; makers (role 1) below tradeId.
    const takerBelow = cursor === undefined ? keyAboveAll : cursor[0] + cursor[1];
    const makerBelow = cursor === undefined ? keyAboveAll : cursor[0];
    const records = await this.executor.query<UserTradeSqlRow>(
      `(SELECT trade_id, seq, ts_ms, symbol, taker_order_id AS order_id, taker_side AS side, 0 AS role,
               price, qty, taker_fee AS fee
          FROM trades WHERE taker_user_id = $1 AND trade_id < $2 ORDER BY trade_id DESC LIMIT $4)
       UNION ALL
       (SELECT trade_id, seq, ts_ms, symbol, maker_order_id AS order_id,
               CASE taker_side WHEN 'buy' THEN 'sell' ELSE 'buy' END AS side, 1 AS role,
               price, qty, maker_fee AS fee
          FROM trades WHERE maker_user_id = $1 AND trade_id < $3 ORDER BY trade_id DESC LIMIT $4)
       ORDER BY trade_id DESC, role DESC LIMIT $4`,
      [userId, takerBelow, makerBelow, pageSize + 1],
    );
    const items = records.map(userTradeOf);
    return pageOf(items, pageSize, (trade) => [trade.tradeId, trade.role === 'maker' ? 1 : 0]);
  }

  /**
   * A user's ledger, newest first: the rows of `ledger` and the legs of the user's fills from
   * `trade_legs`, merged on the key (seq, entry key, leg): a row's entry index and leg 0, or a
   * fill's trade id and leg 1-8 (a command's rows are either all fills or none). The cursor also
   * carries the oldest trade id shown so far: trade ids grow with seq, so the fills still to page
   * are at or below it, which keeps each fill scan on its user's trade index.
   */
  async ledgerOfUser(userId: number, query: HistoryQuery): Promise<Page<LedgerRecord>> {
    const pageSize = pageSizeOf(query);
    const cursor = decodeCursor(query.cursor, 4);
    const [seq, entryKey, leg, tradeIdAtMost] = cursor ?? [keyAboveAll, 0, 0, keyAboveAll];
    const records = await this.executor.query<LedgerSqlRow>(ledgerPageSql, [
      userId,
      seq,
      entryKey,
      leg,
      tradeIdAtMost,
      pageSize + 1,
    ]);
    const page = pageOf(records.map(ledgerRecordOf), pageSize, (entry) => [
      entry.seq,
      entry.entryIndex,
      entry.leg,
    ]);
    if (page.next === null) return page;
    let oldestTradeId = cursor?.[3] ?? Number.MAX_SAFE_INTEGER;
    for (const entry of page.items)
      if (entry.tradeId !== null && entry.leg > 0) oldestTradeId = Math.min(oldestTradeId, entry.tradeId);
    const last = page.items[page.items.length - 1];
    return { items: page.items, next: encodeCursor([last.seq, last.entryIndex, last.leg, oldestTradeId]) };
  }

  /** A user's coupons, newest offering first, with their uses left as projected. */
  async couponsOfUser(userId: number, query: HistoryQuery): Promise<Page<CouponRecord>> {
    const pageSize = pageSizeOf(query);
    const [offeringId] = decodeCursor(query.cursor, 1) ?? [keyAboveAll];
    const records = await this.executor.query<Parameters<typeof couponFromRecord>[0]>(
      `SELECT ${couponColumns} FROM coupons WHERE user_id = $1 AND offering_id < $2
        ORDER BY offering_id DESC LIMIT $3`,
      [userId, offeringId, pageSize + 1],
    );
    const items = records.map((record) => {
      const { userId: _owner, ...coupon } = couponFromRecord(record);
      return coupon;
    });
    return pageOf(items, pageSize, (coupon) => [coupon.offeringId]);
  }

  /** The fees a user's coupons discounted, newest first; key (tradeId, role) as for fills. */
  async couponUsesOfUser(userId: number, query: HistoryQuery): Promise<Page<CouponUseRecord>> {
    const pageSize = pageSizeOf(query);
    const cursor = decodeCursor(query.cursor, 2);
    if (cursor !== undefined && cursor[1] > 1)
      throw new StoreError('INVALID_CURSOR', 'unknown role in cursor');
    const [tradeId, role] = cursor ?? [keyAboveAll, 0];
    const records = await this.executor.query<{
      trade_id: Numeric;
      role: string;
      seq: Numeric;
      ts_ms: Numeric;
      offering_id: Numeric;
      asset: string;
      full_fee: Numeric;
      fee: Numeric;
      uses_left: Numeric;
    }>(
      `SELECT trade_id, role, seq, ts_ms, offering_id, asset, full_fee, fee, uses_left FROM coupon_uses
        WHERE user_id = $1 AND (trade_id, CASE role WHEN 'maker' THEN 1 ELSE 0 END) < ($2, $3)
        ORDER BY trade_id DESC, role ASC LIMIT $4`,
      [userId, tradeId, role, pageSize + 1],
    );
    const items = records.map((record) => ({
      tradeId: Number(record.trade_id),
      role: record.role as FeeRole,
      seq: Number(record.seq),
      tsMs: Number(record.ts_ms),
      offeringId: Number(record.offering_id),
      asset: record.asset,
      fullFee: Number(record.full_fee),
      fee: Number(record.fee),
      usesLeft: Number(record.uses_left),
    }));
    return pageOf(items, pageSize, (use) => [use.tradeId, use.role === 'maker' ? 1 : 0]);
  }

  async tradesOfSymbol(symbol: string, query: HistoryQuery): Promise<Page<TradeRecord>> {
    const pageSize = pageSizeOf(query);
    const [tradeId] = decodeCursor(query.cursor, 1) ?? [keyAboveAll];
    const records = await this.executor.query<{
      trade_id: Numeric;
      seq: Numeric;
      ts_ms: Numeric;
      symbol: string;
      taker_side: string;
      price: Numeric;
      qty: Numeric;
    }>(
      `SELECT trade_id, seq, ts_ms, symbol, taker_side, price, qty FROM trades
        WHERE symbol = $1 AND trade_id < $2 ORDER BY trade_id DESC LIMIT $3`,
      [symbol, tradeId, pageSize + 1],
    );
    const items = records.map((record) => ({
      tradeId: Number(record.trade_id),
      seq: Number(record.seq),
      tsMs: Number(record.ts_ms),
      symbol: record.symbol,
      side: record.taker_side as Side,
      price: Number(record.price),
      qty: Number(record.qty),
    }));
    return pageOf(items, pageSize, (trade) => [trade.tradeId]);
  }
}

/** Fill legs of one kind of involvement, newest first, from the key ($2, $3, $4) down. */
function fillLegsSql(involvement: string): string {
  return `(SELECT seq, trade_id AS entry_key, leg, ts_ms, asset, kind, amount, trade_id, NULL::bigint AS offering_id
      FROM trade_legs
     WHERE ${involvement} AND user_id = $1 AND trade_id <= $5 AND (seq, trade_id, leg) < ($2, $3, $4)
     ORDER BY trade_id DESC, leg DESC LIMIT $6)`;
}

/**
 * One page of a user's ledger: its `ledger` rows, then the legs of fills it took (a self-trade's
 * maker legs come with them), made, and, for the fee account only, the fee credits.
 */
const ledgerPageSql = `
  (SELECT seq, entry_index AS entry_key, 0 AS leg, ts_ms, asset, kind, amount, trade_id, offering_id
     FROM ledger WHERE user_id = $1 AND (seq, entry_index) < ($2, $3)
    ORDER BY seq DESC, entry_index DESC LIMIT $6)
  UNION ALL ${fillLegsSql('taker_user_id = $1 AND leg <= 6')}
  UNION ALL ${fillLegsSql('maker_user_id = $1 AND taker_user_id <> $1 AND leg <= 6')}
  UNION ALL ${fillLegsSql(`$1 = ${FEE_USER} AND leg >= 7`)}
  ORDER BY seq DESC, entry_key DESC, leg DESC LIMIT $6`;

interface LedgerSqlRow {
  seq: Numeric;
  entry_key: Numeric;
  leg: Numeric;
  ts_ms: Numeric;
  asset: string;
  kind: string;
  amount: Numeric;
  trade_id: Numeric | null;
  offering_id: Numeric | null;
}

function ledgerRecordOf(record: LedgerSqlRow): LedgerRecord {
  return {
    seq: Number(record.seq),
    entryIndex: Number(record.entry_key),
    leg: Number(record.leg),
    tsMs: Number(record.ts_ms),
    asset: record.asset,
    kind: record.kind as LedgerKind,
    amount: Number(record.amount),
    tradeId: record.trade_id === null ? null : Number(record.trade_id),
    offeringId: record.offering_id === null ? null : Number(record.offering_id),
  };
}

interface UserTradeSqlRow {
  trade_id: Numeric;
  seq: Numeric;
  ts_ms: Numeric;
  symbol: string;
  order_id: Numeric;
  side: string;
  role: Numeric;
  price: Numeric;
  qty: Numeric;
  fee: Numeric;
}

function userTradeOf(record: UserTradeSqlRow): UserTradeRecord {
  return {
    tradeId: Number(record.trade_id),
    seq: Number(record.seq),
    tsMs: Number(record.ts_ms),
    symbol: record.symbol,
    orderId: Number(record.order_id),
    side: record.side as Side,
    role: Number(record.role) === 1 ? 'maker' : 'taker',
    price: Number(record.price),
    qty: Number(record.qty),
    fee: Number(record.fee),
  };
}
