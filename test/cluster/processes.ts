// Role processes (`node dist/src/cli/main.js engine|gateway|projector`) as children: their pino
// lines, a wait for a given log line or the exit (never a fixed time), and a kill-all for after().
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const cliPath = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.js');

export interface LogLine {
  msg?: string;
  [field: string]: unknown;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

export interface RoleChild {
  process: ChildProcess;
  lines: LogLine[];
  logged(message: string): Promise<LogLine>;
  finished: Promise<Finished>;
}

export const runningChildren = new Set<ChildProcess>();

export function killChildren(): void {
  for (const child of runningChildren) child.kill('SIGKILL');
}

export function hogaRole(args: string[], environment: Record<string, string>): RoleChild {
  const child = spawn(process.execPath, [cliPath, ...args], {
    env: { ...process.env, HOGA_LOG_LEVEL: 'info', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  runningChildren.add(child);
  const lines: LogLine[] = [];
  const waiters: Array<{ message: string; resolve: (line: LogLine) => void }> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (text) => {
    if (!text.startsWith('{"level"')) return;
    const line = JSON.parse(text) as LogLine;
    lines.push(line);
    for (const waiter of waiters.filter((candidate) => candidate.message === line.msg)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const finished = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => {
      runningChildren.delete(child);
      resolve({ code, signal, stderr });
    });
  });
  const logged = (message: string): Promise<LogLine> => {
    const seen = lines.find((line) => line.msg === message);
    if (seen !== undefined) return Promise.resolve(seen);
    return Promise.race([
      new Promise<LogLine>((resolve) => waiters.push({ message, resolve })),
      finished.then((result) => {
        throw new Error(
          `exited (${result.code ?? result.signal}) before logging "${message}": ${result.stderr}`,
        );
      }),
    ]);
  };
  return { process: child, lines, logged, finished };
}
