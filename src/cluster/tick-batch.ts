// Runs queued work together, once, after the current turn of the event loop (setImmediate). The
// NATS client writes to its socket once per microtask checkpoint; publishes made one by one as
// messages or acks are handled (each in its own microtask) therefore cost one socket write each.
// Queued here, every publish of a turn goes out in one synchronous pass, hence one write.
export class TickBatch {
  private queued: Array<() => void> = [];
  private scheduled = false;

  add(work: () => void): void {
    this.queued.push(work);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.run());
  }

  private run(): void {
    const work = this.queued;
    this.queued = [];
    this.scheduled = false;
    for (const item of work) item();
  }
}
