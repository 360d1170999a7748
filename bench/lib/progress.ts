// Progress over a benchmark's phases (generate, warm up, measure...), on stderr. It is updated only
// between phases, never inside a timed loop, so it costs the measurement nothing. On a terminal it
// is a cli-progress bar; otherwise (CI, pipes) one line per phase.
import cliProgress from 'cli-progress';
import { nowNs, secondsSince } from './timer.js';

export class PhaseProgress {
  private readonly bar: cliProgress.SingleBar | undefined;
  private readonly startNs = nowNs();
  private done = 0;

  constructor(phaseCount: number) {
    if (process.stderr.isTTY) {
      this.bar = new cliProgress.SingleBar(
        { format: '{bar} {value}/{total} {phase}', stream: process.stderr, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(phaseCount, 0, { phase: '' });
    }
  }

  /** Marks the start of the next phase. */
  phase(name: string): void {
    if (this.bar === undefined) {
      process.stderr.write(`[${secondsSince(this.startNs).toFixed(1)}s] ${name}\n`);
    } else {
      this.bar.update(this.done, { phase: name });
    }
    this.done += 1;
  }

  stop(): void {
    if (this.bar !== undefined) {
      this.bar.update(this.done, { phase: 'done' });
      this.bar.stop();
    }
  }
}
