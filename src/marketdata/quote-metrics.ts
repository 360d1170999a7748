// The quote ingest's and the feed's counters on a prom-client registry, read at scrape time (the
// ingest's hot path counts in plain numbers and never touches prom-client).
import { Counter, Gauge, type Registry } from 'prom-client';
import type { QuoteFeed } from './feeds/feed.js';
import type { QuoteIngest } from './ingest.js';

/** A counter that mirrors a total kept elsewhere: set from it at every scrape. */
function mirroredCounter(
  registry: Registry,
  name: string,
  help: string,
  read: () => Array<[Record<string, string>, number]>,
): void {
  new Counter({
    name,
    help,
    labelNames: name === 'hoga_quotes_rejected_total' ? ['reason'] : [],
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

export function registerQuoteMetrics(registry: Registry, ingest: QuoteIngest, feed?: QuoteFeed): void {
  const unlabelled = (read: () => number) => () => [[{}, read()]] as Array<[Record<string, string>, number]>;
  mirroredCounter(
    registry,
    'hoga_quotes_accepted_total',
    'Quotes taken into candles and quotes channels',
    unlabelled(() => ingest.stats().accepted),
  );
  mirroredCounter(
    registry,
    'hoga_quotes_duplicates_total',
    'Quotes dropped as seen before (same source id or same content)',
    unlabelled(() => ingest.stats().duplicates),
  );
  mirroredCounter(
    registry,
    'hoga_quotes_late_total',
    'Quotes dropped because they are older than the dedupe window',
    unlabelled(() => ingest.stats().late),
  );
  mirroredCounter(registry, 'hoga_quotes_rejected_total', 'Invalid quotes refused, by reason', () =>
    [...ingest.rejections].map(([reason, count]) => [{ reason }, count]),
  );
  mirroredCounter(
    registry,
    'hoga_quotes_queue_full_total',
    'Pushes refused because the ingest ring was full',
    unlabelled(() => ingest.stats().queueFull),
  );
  new Gauge({
    name: 'hoga_quotes_queued',
    help: 'Quotes waiting in the ingest ring',
    registers: [registry],
    collect() {
      this.set(ingest.stats().queued);
    },
  });
  if (feed === undefined) return;
  mirroredCounter(
    registry,
    'hoga_quote_feed_reconnects_total',
    'Times the quote feed connected again after losing its connection',
    unlabelled(() => feed.stats().reconnects),
  );
  mirroredCounter(
    registry,
    'hoga_quote_feed_malformed_total',
    'Feed lines that did not parse (bad fields, inexact prices, too long)',
    unlabelled(() => feed.stats().malformed),
  );
}
