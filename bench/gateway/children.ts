// The processes the gateway benchmark drives: the exchange (`hoga start`) and the echo ceilings,
// each a child that prints its port as a JSON line; and their CPU time, read from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface Child {
  child: ChildProcess;
  port: number;
}

const childStartTimeoutMs = 180_000;
export const cliMainPath = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
export const echoServerPath = fileURLToPath(new URL('./echo-server.js', import.meta.url));

/** Starts `node [nodeFlags] script args` and resolves with the port it prints (a JSON line with `port`). */
export function spawnChild(
  script: string,
  args: string[],
  env: Record<string, string> = {},
  nodeFlags: string[] = [],
): Promise<Child> {
  const child = spawn(process.execPath, [...nodeFlags, script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const label = [script, ...args].join(' ');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${label} did not start`)), childStartTimeoutMs);
    child.once('exit', (code) => reject(new Error(`${label} exited with ${code}`)));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const port = portOf(line);
      if (port === undefined) return;
      clearTimeout(timer);
      resolve({ child, port });
    });
  });
}

/** The `port` of a JSON line; undefined for any other line (the exchange also logs on stdout). */
function portOf(line: string): number | undefined {
  try {
    const parsed = JSON.parse(line) as { port?: unknown };
    return typeof parsed.port === 'number' ? parsed.port : undefined;
  } catch {
    return undefined;
  }
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const clockTicksPerSecond = 100;

/**
 * CPU seconds (user + system) another process has used so far, all threads or (`mainThreadOnly`)
 * only its main thread, whose task id is the process id; 0 where /proc is missing.
 */
export function cpuSecondsOf(pid: number | undefined, mainThreadOnly = false): number {
  if (pid === undefined) return 0;
  try {
    const path = mainThreadOnly ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`;
    const stat = readFileSync(path, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / clockTicksPerSecond;
  } catch {
    return 0;
  }
}
