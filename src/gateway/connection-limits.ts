// Caps on open TCP connections (HTTP and WebSocket alike), per client address and in total, so a
// flood of idle or slow connections cannot take the process to its file-descriptor limit (which
// would also starve the journal and snapshots). A connection past a cap gets a fixed 503 reply and
// is closed before any request on it is read. Behind a trusted proxy every connection comes from
// the proxy, so only the total applies there (set per-client caps at the proxy).
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Counter } from 'prom-client';
import type { ConnectionOptions } from './config.js';
import { statusOf } from './errors.js';
import type { GatewayMetrics } from './metrics.js';

export interface ConnectionLimitOptions extends Pick<ConnectionOptions, 'perIpMax' | 'totalMax'> {
  /** Per-address counting is meaningless when every peer is the reverse proxy. */
  perIp: boolean;
}

function refusal(reason: string): string {
  const body = JSON.stringify({
    code: 'TOO_MANY_CONNECTIONS',
    message: `${reason} connection limit reached`,
  });
  return [
    `HTTP/1.1 ${statusOf('TOO_MANY_CONNECTIONS')} Service Unavailable`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Retry-After: 1',
    'Connection: close',
    '',
    body,
  ].join('\r\n');
}

const refusals = { perIp: refusal('per-address'), total: refusal('total') };

export class ConnectionLimits {
  private readonly perAddress = new Map<string, number>();
  private open = 0;

  constructor(
    private readonly options: ConnectionLimitOptions,
    private readonly refused: (reason: 'perIp' | 'total') => void,
  ) {}

  get openCount(): number {
    return this.open;
  }

  /** Runs before Node's own connection handling, so a refused socket is closed before it is parsed. */
  attach(server: Server): void {
    server.prependListener('connection', (socket: Socket) => this.onConnection(socket));
  }

  private onConnection(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.perAddress.get(address) ?? 0;
    const reason =
      this.open >= this.options.totalMax
        ? 'total'
        : this.options.perIp && fromAddress >= this.options.perIpMax
          ? 'perIp'
          : undefined;
    if (reason !== undefined) {
      this.refused(reason);
      socket.end(refusals[reason], () => socket.destroy());
      return;
    }
    this.open += 1;
    this.perAddress.set(address, fromAddress + 1);
    socket.once('close', () => this.release(address));
  }

  private release(address: string): void {
    this.open -= 1;
    const left = (this.perAddress.get(address) ?? 1) - 1;
    if (left === 0) this.perAddress.delete(address);
    else this.perAddress.set(address, left);
  }
}

/** Wires the caps to a server with their metrics. */
export function limitConnections(
  server: Server,
  options: ConnectionLimitOptions,
  metrics: GatewayMetrics,
): void {
  const refusedTotal = new Counter({
    name: 'hoga_connections_refused_total',
    help: 'TCP connections refused at a connection cap',
    labelNames: ['reason'] as const,
    registers: [metrics.registry],
  });
  const limits = new ConnectionLimits(options, (reason) => refusedTotal.inc({ reason }));
  limits.attach(server);
  metrics.gauge('hoga_connections_open', 'Open TCP connections (HTTP and WebSocket)', () => limits.openCount);
}
