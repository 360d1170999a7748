// Reused event objects of one kind: a command takes as many as it emits, and the next command
// reuses them (events are valid until the next `apply`), so `apply` allocates nothing in the
// steady state.
export class EventPool<T> {
  private readonly items: T[] = [];
  private used = 0;

  constructor(private readonly create: () => T) {}

  take(): T {
    if (this.used === this.items.length) this.items.push(this.create());
    return this.items[this.used++];
  }

  /** At the start of a command: every object is free again. */
  reset(): void {
    this.used = 0;
  }

  /** Drops objects beyond `kept` after a long command, for the GC. */
  trim(kept: number): void {
    if (this.items.length > kept) this.items.length = kept;
  }
}
