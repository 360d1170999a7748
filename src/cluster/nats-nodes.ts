// Local NATS nodes with JetStream clustered on loopback: what `hoga cluster up` and the failover
// tests start. Node i listens for clients on clientPortBase + i and for routes on
// clusterPortBase + i, stores in <stateDir>/nats-<i>, and routes to every other node.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface NatsNodesOptions {
  /** nats-server binary (HOGA_NATS_SERVER_BIN, default `nats-server` on the PATH). */
  binary?: string;
  nodes: number;
  clientPortBase: number;
  clusterPortBase: number;
  stateDir: string;
  clusterName?: string;
  /** detached: the nodes outlive this process (`hoga cluster up`); their output goes to log files. */
  detached?: boolean;
}

export interface NatsNode {
  index: number;
  name: string;
  clientPort: number;
  url: string;
  args: string[];
}

export function natsNodes(options: NatsNodesOptions): NatsNode[] {
  const clusterName = options.clusterName ?? 'hoga';
  return Array.from({ length: options.nodes }, (_, index) => {
    const routes = Array.from({ length: options.nodes }, (_, other) => other)
      .filter((other) => other !== index)
      .map((other) => `nats://127.0.0.1:${options.clusterPortBase + other}`)
      .join(',');
    const name = `${clusterName}-${index + 1}`;
    const clientPort = options.clientPortBase + index;
    return {
      index,
      name,
      clientPort,
      url: `nats://127.0.0.1:${clientPort}`,
      args: [
        '-a',
        '127.0.0.1',
        '-p',
        String(clientPort),
        '-n',
        name,
        '-js',
        '-sd',
        join(options.stateDir, `nats-${index + 1}`),
        '--cluster_name',
        clusterName,
        '--cluster',
        `nats://127.0.0.1:${options.clusterPortBase + index}`,
        ...(routes === '' ? [] : ['--routes', routes]),
      ],
    };
  });
}

/** Starts one node; with `detached` its output goes to <stateDir>/<name>.log and it is unref'd. */
export function startNatsNode(node: NatsNode, options: NatsNodesOptions): ChildProcess {
  mkdirSync(options.stateDir, { recursive: true });
  const binary = options.binary ?? process.env.HOGA_NATS_SERVER_BIN ?? 'nats-server';
  const args = options.detached
    ? [...node.args, '-l', join(options.stateDir, `${node.name}.log`)]
    : node.args;
  const child = spawn(binary, args, {
    stdio: 'ignore',
    detached: options.detached === true,
  });
  if (options.detached) child.unref();
  return child;
}
