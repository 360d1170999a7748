// The sweep's dry-run walk: the makers a sweep would meet, in the order it would meet them,
// without touching the book. The one sweep (matching.ts) reads makers either from the live book
// (and mutates it) or from this cursor (and only counts), so FOK checks and the fill-count bound
// use exactly the matcher that fills.
import type { LevelList, Order, PriceLevel } from './book.js';
import { shownQty } from './engine-store.js';

/**
 * Walks one side of a book from its best level. `maker`, `price` and `shown` describe the order
 * at the front of the simulated queue; `take` and `drop` consume it as a fill or an STP cancel
 * would. A level holding icebergs is simulated as a circular queue of its size (a refilled iceberg
 * leaves the front and rejoins at the back, so the queue never grows); any other level is walked
 * along its linked list. Scratch arrays are kept between runs (stale entries are never read), so a
 * dry run allocates nothing once they have grown to the largest level seen.
 */
export class SweepCursor {
  /** The front maker, or null when the walk must move on (see `ready`). */
  maker: Order | null = null;
  /** The front maker's level price. */
  price = 0;
  /** What the front maker still shows to this sweep (its visible part, as reduced by dry fills). */
  shown = 0;
  private side: LevelList | null = null;
  private level: PriceLevel | null = null;
  /** Linked mode: the maker after the front one. */
  private next: Order | null = null;
  /** Queue mode (a level with icebergs). */
  private queued = false;
  private head = 0;
  private count = 0;
  private capacity = 0;
  private readonly orders: Order[] = [];
  private readonly left: number[] = [];
  private readonly visible: number[] = [];

  /** Starts a walk from the best level of `side`. */
  start(side: LevelList): void {
    this.side = side;
    this.level = null;
    this.maker = null;
    this.next = null;
    this.queued = false;
    this.count = 0;
  }

  /** Positions on the next maker the sweep would meet; false when the side is exhausted. */
  ready(): boolean {
    if (this.maker !== null) return true;
    for (;;) {
      if (this.queued) {
        if (this.count > 0) {
          this.maker = this.orders[this.head];
          this.shown = this.visible[this.head];
          return true;
        }
      } else if (this.next !== null) {
        const maker = this.next;
        this.maker = maker;
        this.shown = maker.remaining;
        this.next = maker.next;
        return true;
      }
      const level = this.level === null ? this.side!.best() : this.level.forward[0];
      if (level === null) return false;
      this.level = level;
      this.price = level.price;
      if (level.icebergCount === 0) {
        this.queued = false;
        this.next = level.head;
      } else {
        this.load(level);
      }
    }
  }

  /** The front maker fills `qty` (at most `shown`): a used-up iceberg part rejoins at the back. */
  take(qty: number): void {
    this.shown -= qty;
    if (!this.queued) {
      if (this.shown === 0) this.maker = null;
      return;
    }
    const head = this.head;
    this.left[head] -= qty;
    this.visible[head] = this.shown;
    // A fill cut short (a market buy's funds) leaves the same maker at the front.
    if (this.shown > 0) return;
    const maker = this.maker!;
    const makerLeft = this.left[head];
    this.maker = null;
    this.head = (head + 1) % this.capacity;
    this.count--;
    if (makerLeft > 0) {
      const tail = (this.head + this.count) % this.capacity;
      this.orders[tail] = maker;
      this.left[tail] = makerLeft;
      this.visible[tail] = Math.min(maker.displayQty, makerLeft);
      this.count++;
    }
  }

  /** The front maker leaves without a fill (an STP cancel). */
  drop(): void {
    this.maker = null;
    if (!this.queued) return;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
  }

  private load(level: PriceLevel): void {
    const orders = this.orders;
    const left = this.left;
    const visible = this.visible;
    let count = 0;
    for (let maker = level.head; maker !== null; maker = maker.next) {
      orders[count] = maker;
      left[count] = maker.remaining;
      visible[count] = shownQty(maker);
      count++;
    }
    this.queued = true;
    this.head = 0;
    this.count = count;
    this.capacity = count;
  }
}
