// The gateway's read side of the SQL read model: complete, paginated history. A port of its own
// (not in ports.ts) because its record types live in history.ts, which imports ports.ts.
import type {
  CouponRecord,
  CouponUseRecord,
  LedgerRecord,
  OrderEventRecord,
  OrderRecord,
  UserTradeRecord,
} from './history.js';
import type { HistoryQuery, Page } from './ports.js';

/** Optional read side: complete, paginated history from the SQL read model (read-model-client.ts). */
export interface HistoryReader {
  lagCommands(): number;
  ordersOfUser(userId: number, query: HistoryQuery): Promise<Page<OrderRecord>>;
  orderOfUser(userId: number, orderId: number): Promise<OrderRecord | undefined>;
  /** One of the user's orders' events, oldest first; another user's order has none. */
  eventsOfOrder(userId: number, orderId: number, query: HistoryQuery): Promise<Page<OrderEventRecord>>;
  tradesOfUser(userId: number, query: HistoryQuery): Promise<Page<UserTradeRecord>>;
  ledgerOfUser(userId: number, query: HistoryQuery): Promise<Page<LedgerRecord>>;
  couponsOfUser(userId: number, query: HistoryQuery): Promise<Page<CouponRecord>>;
  couponUsesOfUser(userId: number, query: HistoryQuery): Promise<Page<CouponUseRecord>>;
}
