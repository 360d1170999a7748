// Printing benchmark results: aligned tables and PASS/MISS lines for people, one JSON line for
// machines. With `--json`, stdout carries only the JSON line and everything human goes to stderr,
// so `node x.bench.js --json | tail -1 | jq` always works.

export interface TargetCheck {
  name: string;
  actual: number;
  target: number;
  /** 'atLeast' for throughput-like figures, 'atMost' for latency-like ones. */
  comparison: 'atLeast' | 'atMost';
  unit: string;
  pass: boolean;
}

export function checkTarget(
  name: string,
  actual: number,
  comparison: TargetCheck['comparison'],
  target: number,
  unit: string,
): TargetCheck {
  const pass = comparison === 'atLeast' ? actual >= target : actual <= target;
  return { name, actual, target, comparison, unit, pass };
}

/** 1234567 -> "1.23M", 45678 -> "45.7k". */
export function formatCount(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

/** Three significant digits, enough for benchmark figures. */
export function formatNumber(value: number): string {
  if (value === 0) return '0';
  if (Math.abs(value) >= 1000) return Math.round(value).toString();
  return value.toPrecision(3);
}

export class BenchReporter {
  private readonly json: boolean;

  constructor(json: boolean) {
    this.json = json;
  }

  /** A line for people: stdout normally, stderr in JSON mode. */
  line(text = ''): void {
    (this.json ? process.stderr : process.stdout).write(`${text}\n`);
  }

  table(rows: Array<Record<string, string | number>>): void {
    if (rows.length === 0) return;
    const columns = Object.keys(rows[0]);
    const cells = rows.map((row) =>
      columns.map((column) => {
        const value = row[column];
        return typeof value === 'number' ? formatNumber(value) : value;
      }),
    );
    const widths = columns.map((column, index) =>
      Math.max(column.length, ...cells.map((rowCells) => rowCells[index].length)),
    );
    const render = (values: string[]) =>
      values.map((value, index) =>
        index === 0 ? value.padEnd(widths[index]) : value.padStart(widths[index]),
      );
    this.line(render(columns).join('  '));
    for (const rowCells of cells) this.line(render(rowCells).join('  '));
  }

  targets(checks: TargetCheck[]): void {
    for (const check of checks) {
      const relation = check.comparison === 'atLeast' ? '>=' : '<=';
      const verdict = check.pass ? 'PASS' : 'MISS';
      this.line(
        `${verdict}  ${check.name}: ${formatNumber(check.actual)}${check.unit} (target ${relation} ${formatNumber(check.target)}${check.unit})`,
      );
    }
  }

  /** The machine-readable result: printed only in JSON mode, as the last stdout line. */
  result(payload: unknown): void {
    if (this.json) process.stdout.write(`${JSON.stringify(payload)}\n`);
  }
}
