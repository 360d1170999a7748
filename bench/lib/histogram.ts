// Latency recording for benchmarks: an HDR histogram (hdr-histogram-js) fed in nanoseconds and read
// in microseconds. HDR keeps 3 significant digits across the whole range, so p99.9 of a million
// samples is exact enough without storing every sample.
import { build, type Histogram } from 'hdr-histogram-js';

/** Longest latency kept at full precision; anything slower is clamped here (and shows in max). */
const latencyNsMax = 60_000_000_000;
const nanosecondsPerMicrosecond = 1_000;

export interface LatencySummary {
  count: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
  meanUs: number;
}

export class LatencyHistogram {
  private readonly histogram: Histogram;

  constructor() {
    this.histogram = build({
      lowestDiscernibleValue: 1,
      highestTrackableValue: latencyNsMax,
      numberOfSignificantValueDigits: 3,
      autoResize: false,
      useWebAssembly: false,
    });
  }

  recordNs(latencyNs: number): void {
    this.histogram.recordValue(Math.min(Math.max(latencyNs, 0), latencyNsMax));
  }

  /** Records every sample of a buffer filled inside a timed loop (where recording would add cost). */
  recordAllNs(latenciesNs: ArrayLike<number>, count: number): void {
    for (let index = 0; index < count; index += 1) this.recordNs(latenciesNs[index]);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  /** The latency at `percentile` (0-100), in microseconds. */
  percentileUs(percentile: number): number {
    return this.histogram.getValueAtPercentile(percentile) / nanosecondsPerMicrosecond;
  }

  summary(): LatencySummary {
    return {
      count: this.histogram.totalCount,
      p50Us: this.percentileUs(50),
      p99Us: this.percentileUs(99),
      p999Us: this.percentileUs(99.9),
      maxUs: this.histogram.maxValue / nanosecondsPerMicrosecond,
      meanUs: this.histogram.mean / nanosecondsPerMicrosecond,
    };
  }
}
