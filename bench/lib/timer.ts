// Monotonic nanosecond timing for benchmarks, and the cost of the timer itself, so per-operation
// latencies can be read knowing how much of them is the measurement.

/** Nanoseconds from an arbitrary origin, as a number (exact for about 104 days of uptime). */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/** Seconds elapsed since `startNs` (from `nowNs`). */
export function secondsSince(startNs: number): number {
  return (nowNs() - startNs) / 1e9;
}

/** Median cost in ns of one back-to-back pair of `process.hrtime.bigint()` reads. */
export function measureTimerOverheadNs(samples = 100_001): number {
  const costsNs = new Float64Array(samples);
  for (let index = 0; index < samples; index += 1) {
    const start = process.hrtime.bigint();
    const end = process.hrtime.bigint();
    costsNs[index] = Number(end - start);
  }
  costsNs.sort();
  return costsNs[Math.floor(samples / 2)];
}
