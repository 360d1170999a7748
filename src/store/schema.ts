// The schema, as an ordered list of migrations. A migration is never edited once released: a
// change is a new entry at the end. The same DDL runs on PGlite and on PostgreSQL.

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const usersAndSessions = `
CREATE SEQUENCE user_id_seq START 1 MINVALUE 1;
CREATE TABLE users (
  id bigint PRIMARY KEY DEFAULT nextval('user_id_seq'),
  username text NOT NULL,
  password_hash text NOT NULL,
  is_admin boolean NOT NULL,
  created_at_ms bigint NOT NULL
);
ALTER SEQUENCE user_id_seq OWNED BY users.id;
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));
-- touchSession rewrites only last_seen_at_ms, which no index covers: with free space left in each
-- page (fillfactor) the update is HOT and never touches an index.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  device text NOT NULL,
  ip text NOT NULL,
  created_at_ms bigint NOT NULL,
  last_seen_at_ms bigint NOT NULL
) WITH (fillfactor = 80);
CREATE INDEX sessions_user ON sessions (user_id);
`;

const history = `
CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY,
  seq bigint NOT NULL
);
CREATE TABLE symbols (
  symbol text PRIMARY KEY,
  base text NOT NULL,
  quote text NOT NULL,
  lot_size bigint NOT NULL,
  tick_size bigint NOT NULL,
  maker_fee_bps integer NOT NULL,
  taker_fee_bps integer NOT NULL,
  seq bigint NOT NULL,
  ts_ms bigint NOT NULL
);
-- Append-only, partitioned by time (one partition per day, see partitions.ts) so old days can be
-- detached and archived or dropped without a DELETE.
CREATE TABLE trades (
  trade_id bigint NOT NULL,
  seq bigint NOT NULL,
  ts_ms bigint NOT NULL,
  symbol text NOT NULL,
  taker_order_id bigint NOT NULL,
  maker_order_id bigint NOT NULL,
  taker_user_id bigint NOT NULL,
  maker_user_id bigint NOT NULL,
  taker_side text NOT NULL,
  price bigint NOT NULL,
  qty bigint NOT NULL,
  taker_fee bigint NOT NULL,
  maker_fee bigint NOT NULL,
  PRIMARY KEY (trade_id, ts_ms)
) PARTITION BY RANGE (ts_ms);
CREATE INDEX trades_symbol ON trades (symbol, trade_id);
CREATE INDEX trades_taker ON trades (taker_user_id, trade_id);
CREATE INDEX trades_maker ON trades (maker_user_id, trade_id);
CREATE TABLE order_events (
  seq bigint NOT NULL,
  event_index integer NOT NULL,
  ts_ms bigint NOT NULL,
  order_id bigint NOT NULL,
  user_id bigint NOT NULL,
  symbol text NOT NULL,
  kind text NOT NULL,
  side text NOT NULL,
  price bigint NOT NULL,
  qty bigint NOT NULL,
  reason text,
  PRIMARY KEY (seq, event_index, ts_ms)
) PARTITION BY RANGE (ts_ms);
CREATE INDEX order_events_order ON order_events (order_id, seq, event_index);
-- One row per order, written at most once per projector batch (all its events in the batch
-- coalesced). Only immutable columns are indexed and pages keep free space, so the updates are HOT.
CREATE TABLE orders (
  order_id bigint PRIMARY KEY,
  user_id bigint NOT NULL,
  symbol text NOT NULL,
  side text NOT NULL,
  type text NOT NULL,
  tif text NOT NULL,
  price bigint NOT NULL,
  qty bigint NOT NULL,
  filled_qty bigint NOT NULL,
  remaining_qty bigint NOT NULL,
  status text NOT NULL,
  reason text,
  created_seq bigint NOT NULL,
  created_ts_ms bigint NOT NULL,
  updated_seq bigint NOT NULL,
  updated_ts_ms bigint NOT NULL
) WITH (fillfactor = 70);
CREATE INDEX orders_user ON orders (user_id, order_id);
CREATE TABLE ledger (
  seq bigint NOT NULL,
  entry_index integer NOT NULL,
  ts_ms bigint NOT NULL,
  user_id bigint NOT NULL,
  asset text NOT NULL,
  kind text NOT NULL,
  amount bigint NOT NULL,
  trade_id bigint,
  PRIMARY KEY (seq, entry_index)
);
CREATE INDEX ledger_user ON ledger (user_id, seq, entry_index);
CREATE TABLE candles (
  symbol text NOT NULL,
  interval text NOT NULL,
  open_time_ms bigint NOT NULL,
  open bigint NOT NULL,
  high bigint NOT NULL,
  low bigint NOT NULL,
  close bigint NOT NULL,
  volume_qty bigint NOT NULL,
  trade_count bigint NOT NULL,
  PRIMARY KEY (symbol, interval, open_time_ms)
);
`;

// Market data's candles also carry their close time (daily and weekly candles follow the market's
// local midnight, so it is not open time + interval) and the quote volume, which can exceed 2^53.
const candleCloseAndQuoteVolume = `
ALTER TABLE candles ADD COLUMN close_time_ms bigint NOT NULL DEFAULT 0;
ALTER TABLE candles ADD COLUMN quote_volume numeric NOT NULL DEFAULT 0;
`;

// Candles built from the exchange's trades and from an external quote feed are different series:
// the source is part of the key. Rows written before it existed are taken as trades (where a
// demo mixed reference quotes into them, that history cannot be told apart any more).
// Version 5 is another area's migration, on its own branch.
const candleSource = `
ALTER TABLE candles ADD COLUMN source text NOT NULL DEFAULT 'trades';
ALTER TABLE candles DROP CONSTRAINT candles_pkey;
ALTER TABLE candles ADD PRIMARY KEY (symbol, interval, source, open_time_ms);
`;

// Order events, one row per order per projector batch instead of one per event (an order placed and
// cancelled within a batch wrote three event rows and now writes one), without the second index:
// the key leads with the order. The rows of order_events move over, one group per order and
// command, and a view of the same name and columns keeps reading them as one row per event.
// Partitions as before: the same days are created for the new table first.
const orderEventGroups = `
CREATE TABLE order_event_groups (
  order_id bigint NOT NULL,
  first_seq bigint NOT NULL,
  last_seq bigint NOT NULL,
  ts_ms bigint NOT NULL,
  user_id bigint NOT NULL,
  symbol text NOT NULL,
  side text NOT NULL,
  events text NOT NULL,
  PRIMARY KEY (order_id, first_seq, ts_ms)
) PARTITION BY RANGE (ts_ms);
DO $$
DECLARE
  part record;
  day text;
  start_ms bigint;
BEGIN
  FOR part IN
    SELECT child.relname AS name
      FROM pg_inherits
      JOIN pg_class parent ON parent.oid = pg_inherits.inhparent
      JOIN pg_class child ON child.oid = pg_inherits.inhrelid
      JOIN pg_namespace ns ON ns.oid = child.relnamespace
     WHERE ns.nspname = current_schema() AND parent.relname = 'order_events'
  LOOP
    day := right(part.name, 8);
    start_ms := (extract(epoch FROM to_date(day, 'YYYYMMDD')) * 1000)::bigint;
    EXECUTE format('CREATE TABLE %I PARTITION OF order_event_groups FOR VALUES FROM (%s) TO (%s)',
      'order_event_groups_d' || day, start_ms, start_ms + 86400000);
  END LOOP;
END $$;
INSERT INTO order_event_groups (order_id, first_seq, last_seq, ts_ms, user_id, symbol, side, events)
  SELECT order_id, seq, seq, min(ts_ms), min(user_id), min(symbol), min(side),
         json_agg(json_build_array(seq, event_index, ts_ms, kind, price, qty, reason) ORDER BY event_index)::text
    FROM order_events GROUP BY order_id, seq;
DROP TABLE order_events;
CREATE VIEW order_events AS
  SELECT (event->>0)::bigint AS seq, (event->>1)::integer AS event_index, (event->>2)::bigint AS ts_ms,
         groups.order_id, groups.user_id, groups.symbol, event->>3 AS kind, groups.side,
         (event->>4)::bigint AS price, (event->>5)::bigint AS qty, event->>6 AS reason
    FROM order_event_groups groups, json_array_elements(groups.events::json) AS event;
`;

// Every change of a user's total balance in the ledger: what a fill moves (each side's two legs, its
// fee, the fee account's credit) is read from `trades` through the view `trade_legs` rather than
// written again as rows, so trades cost the projection nothing more; the fee rows version 4 wrote
// are now in that view and leave the table. `ledger_entries` is the whole ledger, table and trade
// legs. Claims name their offering (and the issuer's delivery is an entry); coupons get one row per
// coupon with its uses left and one row per fee a coupon discounted. Claims projected before this
// version have no offering until `hoga db rebuild` (docs/OPERATIONS.md).
const ledgerTradesAndCoupons = `
ALTER TABLE ledger ADD COLUMN offering_id bigint;
DELETE FROM ledger WHERE kind = 'fee';
CREATE VIEW trade_legs AS
  SELECT t.seq, t.trade_id, t.ts_ms, t.taker_user_id, t.maker_user_id,
         leg.leg, leg.user_id, leg.asset, leg.kind, leg.amount
    FROM trades t
    JOIN symbols s ON s.symbol = t.symbol
    CROSS JOIN LATERAL (SELECT
        CASE t.taker_side WHEN 'buy' THEN s.base ELSE s.quote END AS got_asset,
        CASE t.taker_side WHEN 'buy' THEN s.quote ELSE s.base END AS gave_asset,
        CASE t.taker_side WHEN 'buy' THEN t.qty * s.lot_size ELSE t.qty * t.price END AS got,
        CASE t.taker_side WHEN 'buy' THEN t.qty * t.price ELSE t.qty * s.lot_size END AS gave) AS taker
    CROSS JOIN LATERAL (VALUES
        (1, t.taker_user_id, taker.gave_asset, 'trade', -taker.gave),
        (2, t.taker_user_id, taker.got_asset, 'trade', taker.got),
        (3, t.taker_user_id, taker.got_asset, 'fee', -t.taker_fee),
        (4, t.maker_user_id, taker.got_asset, 'trade', -taker.got),
        (5, t.maker_user_id, taker.gave_asset, 'trade', taker.gave),
        (6, t.maker_user_id, taker.gave_asset, 'fee', -t.maker_fee),
        (7, 0, taker.got_asset, 'feeCredit', t.taker_fee),
        (8, 0, taker.gave_asset, 'feeCredit', t.maker_fee)
      ) AS leg(leg, user_id, asset, kind, amount)
   WHERE leg.amount <> 0;
CREATE VIEW ledger_entries AS
  SELECT seq, entry_index AS entry_key, 0 AS leg, ts_ms, user_id, asset, kind, amount, trade_id, offering_id
    FROM ledger
  UNION ALL
  SELECT seq, trade_id, leg, ts_ms, user_id, asset, kind, amount, trade_id, NULL::bigint
    FROM trade_legs;
CREATE TABLE coupons (
  user_id bigint NOT NULL,
  offering_id bigint NOT NULL,
  issued_seq bigint NOT NULL,
  issued_ts_ms bigint NOT NULL,
  maker_discount_pct integer NOT NULL,
  taker_discount_pct integer NOT NULL,
  expires_ts_ms bigint NOT NULL,
  uses bigint NOT NULL,
  uses_left bigint NOT NULL,
  updated_seq bigint NOT NULL,
  PRIMARY KEY (user_id, offering_id)
) WITH (fillfactor = 80);
CREATE TABLE coupon_uses (
  trade_id bigint NOT NULL,
  role text NOT NULL,
  seq bigint NOT NULL,
  ts_ms bigint NOT NULL,
  user_id bigint NOT NULL,
  offering_id bigint NOT NULL,
  asset text NOT NULL,
  full_fee bigint NOT NULL,
  fee bigint NOT NULL,
  uses_left bigint NOT NULL,
  PRIMARY KEY (trade_id, role)
);
CREATE INDEX coupon_uses_user ON coupon_uses (user_id, trade_id);
`;

// Stop, iceberg and OCO orders (docs/ENGINE.md): a stop order's trigger price and direction and
// when it triggered, an iceberg's display size, and an OCO leg's partner while the link is live.
// Status `pending` needs no DDL (status is text). Rows written before are plain orders: all null.
const stopIcebergOcoOrders = `
ALTER TABLE orders ADD COLUMN stop_price bigint;
ALTER TABLE orders ADD COLUMN trigger text;
ALTER TABLE orders ADD COLUMN triggered_ts_ms bigint;
ALTER TABLE orders ADD COLUMN display_qty bigint;
ALTER TABLE orders ADD COLUMN oco_id bigint;
`;

// API keys (docs/API.md "API keys"): the secret is AES-256-GCM ciphertext under the server key
// (docs/OPERATIONS.md "API key secrets"); the key id is what a client sends as X-MBX-APIKEY.
const apiKeys = `
CREATE TABLE api_keys (
  key_id text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  label text NOT NULL,
  permissions text NOT NULL,
  ip_allowlist text NOT NULL,
  secret_ciphertext text NOT NULL,
  created_at_ms bigint NOT NULL
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at_ms);
`;

// A projection whose rows depend on more than one outcome keeps the state it resumes from next to
// its checkpoint, in the same transaction: the cluster projector's trade candles (the candles
// still open at `seq`), so a restart continues them instead of overwriting them with a part.
const projectionStates = `
CREATE TABLE projection_states (
  name text PRIMARY KEY,
  seq bigint NOT NULL,
  state jsonb NOT NULL
);
`;

export const migrations: readonly Migration[] = [
  { version: 1, name: 'users and sessions', sql: usersAndSessions },
  { version: 2, name: 'history projections and candles', sql: history },
  { version: 3, name: 'candle close time and quote volume', sql: candleCloseAndQuoteVolume },
  { version: 4, name: 'order events grouped per order and batch', sql: orderEventGroups },
  { version: 5, name: 'ledger trade entries, claims by offering, coupons', sql: ledgerTradesAndCoupons },
  { version: 6, name: 'candles keyed by source (trades or quotes)', sql: candleSource },
  { version: 7, name: 'stop, iceberg and OCO orders', sql: stopIcebergOcoOrders },
  { version: 8, name: 'api keys', sql: apiKeys },
  { version: 9, name: 'projection states (cluster candles)', sql: projectionStates },
];

/** Tables filled from the journal: what `hoga db rebuild` empties and refills. */
export const projectedTables = [
  'symbols',
  'trades',
  'order_event_groups',
  'orders',
  'ledger',
  'coupons',
  'coupon_uses',
] as const;
