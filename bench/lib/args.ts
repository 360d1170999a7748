// Command-line options shared by the benchmarks: integer options with defaults and bounds, and
// boolean flags. Unknown options fail loudly so a typo never silently runs the default workload.
import { parseArgs } from 'node:util';

export interface IntegerOption {
  kind: 'integer';
  default: number;
  minimum: number;
  description: string;
}

export interface FlagOption {
  kind: 'flag';
  description: string;
}

export type BenchOption = IntegerOption | FlagOption;

export type BenchOptionValues<Spec extends Record<string, BenchOption>> = {
  [Name in keyof Spec]: Spec[Name] extends IntegerOption ? number : boolean;
};

export function usage(benchName: string, spec: Record<string, BenchOption>): string {
  const lines = [`usage: node dist/bench/${benchName}.bench.js [options]`];
  for (const [name, option] of Object.entries(spec)) {
    const suffix = option.kind === 'integer' ? ` N   (default ${option.default})` : '';
    lines.push(`  --${name}${suffix}  ${option.description}`);
  }
  return lines.join('\n');
}

/** Parses argv; prints usage and exits on `--help` (status 0) or on anything malformed (status 2). */
export function parseBenchOptions<Spec extends Record<string, BenchOption>>(
  benchName: string,
  spec: Spec,
  argv: string[] = process.argv.slice(2),
): BenchOptionValues<Spec> {
  try {
    return parseOrThrow(benchName, spec, argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${usage(benchName, spec)}\n`);
    process.exit(2);
  }
}

function parseOrThrow<Spec extends Record<string, BenchOption>>(
  benchName: string,
  spec: Spec,
  argv: string[],
): BenchOptionValues<Spec> {
  const parserOptions: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, option] of Object.entries(spec)) {
    parserOptions[name] = { type: option.kind === 'integer' ? 'string' : 'boolean' };
  }
  const { values } = parseArgs({ args: argv, options: parserOptions, strict: true, allowPositionals: false });
  if (values.help === true) {
    process.stdout.write(`${usage(benchName, spec)}\n`);
    process.exit(0);
  }
  const result: Record<string, number | boolean> = {};
  for (const [name, option] of Object.entries(spec)) {
    const raw = values[name];
    if (option.kind === 'flag') {
      result[name] = raw === true;
    } else {
      result[name] = raw === undefined ? option.default : parseInteger(name, String(raw), option.minimum);
    }
  }
  return result as BenchOptionValues<Spec>;
}

/** Accepts plain integers and underscore/exponent forms such as `1_000_000` or `1e6`. */
function parseInteger(name: string, raw: string, minimum: number): number {
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isSafeInteger(value) || value < minimum) {
    throw new Error(`--${name} must be an integer >= ${minimum}, got '${raw}'`);
  }
  return value;
}
