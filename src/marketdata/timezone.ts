// Local-midnight boundaries for daily and weekly candles in a market's IANA timezone.
// Intl.DateTimeFormat is slow (microseconds per call), so each zone caches the current local day
// and week: a trade inside the cached range costs two comparisons.

/** Wide enough to contain every real UTC offset (-12h..+14h) plus a DST jump, on either side. */
const searchSpanMs = 30 * 3_600_000;

export interface LocalRange {
  startMs: number;
  endMs: number;
}

/** Local calendar dates as a comparable integer: year * 10000 + month * 100 + day. */
type DateKey = number;

function dateKeyOf(year: number, monthIndex: number, day: number): DateKey {
  const normalised = new Date(Date.UTC(year, monthIndex, day));
  return (
    normalised.getUTCFullYear() * 10_000 + (normalised.getUTCMonth() + 1) * 100 + normalised.getUTCDate()
  );
}

function splitDateKey(key: DateKey): { year: number; monthIndex: number; day: number } {
  return { year: Math.floor(key / 10_000), monthIndex: (Math.floor(key / 100) % 100) - 1, day: key % 100 };
}

export function isValidTimezone(timezone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

export class MarketTimezone {
  readonly timezone: string;
  private readonly format: Intl.DateTimeFormat;
  private day: LocalRange = { startMs: 0, endMs: 0 };
  private week: LocalRange = { startMs: 0, endMs: 0 };

  constructor(timezone: string) {
    this.timezone = timezone;
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
    });
  }

  /** The local calendar date at an instant. */
  localDate(atMs: number): DateKey {
    let year = 0;
    let month = 0;
    let day = 0;
    for (const part of this.format.formatToParts(atMs)) {
      if (part.type === 'year') year = Number(part.value);
      else if (part.type === 'month') month = Number(part.value);
      else if (part.type === 'day') day = Number(part.value);
    }
    return year * 10_000 + month * 100 + day;
  }

  /**
   * The first instant whose local date is `key` or later. A binary search rather than offset
   * arithmetic, so zones whose DST jump skips midnight itself still get a correct day start.
   */
  dateStartMs(key: DateKey): number {
    const { year, monthIndex, day } = splitDateKey(key);
    const utcMidnightMs = Date.UTC(year, monthIndex, day);
    let lowMs = utcMidnightMs - searchSpanMs;
    let highMs = utcMidnightMs + searchSpanMs;
    while (highMs - lowMs > 1) {
      const middleMs = Math.floor((lowMs + highMs) / 2);
      if (this.localDate(middleMs) >= key) highMs = middleMs;
      else lowMs = middleMs;
    }
    return highMs;
  }

  /** The local day containing `atMs`: [local midnight, next local midnight). */
  dayRange(atMs: number): LocalRange {
    if (atMs >= this.day.startMs && atMs < this.day.endMs) return this.day;
    const key = this.localDate(atMs);
    const { year, monthIndex, day } = splitDateKey(key);
    this.day = {
      startMs: this.dateStartMs(key),
      endMs: this.dateStartMs(dateKeyOf(year, monthIndex, day + 1)),
    };
    return this.day;
  }

  /** The local week (Monday 00:00 to the next Monday 00:00) containing `atMs`. */
  weekRange(atMs: number): LocalRange {
    if (atMs >= this.week.startMs && atMs < this.week.endMs) return this.week;
    const { year, monthIndex, day } = splitDateKey(this.localDate(atMs));
    const weekday = new Date(Date.UTC(year, monthIndex, day)).getUTCDay();
    const mondayDay = day - ((weekday + 6) % 7);
    this.week = {
      startMs: this.dateStartMs(dateKeyOf(year, monthIndex, mondayDay)),
      endMs: this.dateStartMs(dateKeyOf(year, monthIndex, mondayDay + 7)),
    };
    return this.week;
  }
}
