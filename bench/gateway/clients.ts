// Order-entry clients for the gateway benchmark: one per simulated user, over WebSocket or REST,
// each able to place a small resting buy and cancel an order. Against the echo ceilings the same
// messages get trivial replies, so both sides of a comparison carry the same traffic.
import http from 'node:http';
import WebSocket from 'ws';
import type { Child } from './children.js';

/** The reply fields the benchmark reads, from any of the servers (each sends a subset). */
export interface Reply {
  id?: unknown;
  ok?: boolean;
  result?: { orderId?: string | number };
  orderId?: string | number;
  token?: string;
  userId?: number;
  readModelLag?: number | null;
  httpStatus?: number;
}
type Send = (message: Record<string, unknown>) => Promise<Reply>;

export interface Outcome {
  ok: boolean;
  /** The placed order's id (place only). */
  orderId?: string | number;
}

export interface OrderEntryClient {
  place(price: string): Promise<Outcome>;
  cancel(orderId: string | number): Promise<Outcome>;
}

/** A set of clients against one server, measured as a unit. */
export interface Target {
  name: string;
  clients: OrderEntryClient[];
  /** The server's process, whose CPU time is sampled around each slice. */
  serverPid: number | undefined;
  /** Run around each of its slices, untimed (turning a socket's pushes on only while it is measured). */
  beforeSlice?: () => Promise<void>;
  afterSlice?: () => Promise<void>;
  close(): Promise<void>;
}

/** The one market every client trades. */
export const benchSymbol = 'BENCH-USD';
const orderQty = '0.001';

/** A few failed replies, kept to explain a non-zero error count. */
const errorSamplesMax = 3;
export const errorSamples: unknown[] = [];

function noteError(reply: unknown): void {
  if (errorSamples.length < errorSamplesMax) errorSamples.push(reply);
}

function webSocketSender(url: string): Promise<{ send: Send; socket: WebSocket }> {
  const socket = new WebSocket(url);
  const waiting = new Map<number, (reply: Reply) => void>();
  let nextId = 1;
  socket.on('message', (data) => {
    const reply = JSON.parse(data.toString()) as Reply;
    if (typeof reply.id !== 'number') return;
    const resolve = waiting.get(reply.id);
    if (resolve === undefined) return;
    waiting.delete(reply.id);
    resolve(reply);
  });
  const send: Send = (message) => {
    const id = nextId++;
    return new Promise((resolve) => {
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ ...message, id }));
    });
  };
  return new Promise((resolve, reject) => {
    socket.once('open', () => resolve({ send, socket }));
    socket.once('error', reject);
  });
}

export function httpSender(port: number, token: string | undefined): { send: Send; agent: http.Agent } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const send: Send = (message) => {
    const { method, path, body } = message as { method: string; path: string; body?: unknown };
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    return new Promise((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method, path, agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ ...JSON.parse(Buffer.concat(chunks).toString()), httpStatus: response.statusCode }),
        );
      });
      request.on('error', reject);
      request.end(payload);
    });
  };
  return { send, agent };
}

function webSocketClient(send: Send): OrderEntryClient {
  return {
    async place(price) {
      const reply = await send({
        op: 'place',
        symbol: benchSymbol,
        side: 'buy',
        type: 'limit',
        price,
        qty: orderQty,
      });
      if (reply.ok === false) noteError(reply);
      // The echo has no order ids: its reply's message id stands in for one.
      return { ok: reply.ok !== false, orderId: reply.result?.orderId ?? (reply.id as number) };
    },
    async cancel(orderId) {
      const reply = await send({ op: 'cancel', orderId });
      if (reply.ok === false) noteError(reply);
      return { ok: reply.ok !== false };
    },
  };
}

function restClient(send: Send): OrderEntryClient {
  return {
    async place(price) {
      const body = { symbol: benchSymbol, side: 'buy', type: 'limit', price, qty: orderQty };
      const reply = await send({ method: 'POST', path: '/api/v1/orders', body });
      if (reply.httpStatus !== 200) noteError(reply);
      return { ok: reply.httpStatus === 200, orderId: reply.orderId };
    },
    async cancel(orderId) {
      const reply = await send({ method: 'DELETE', path: `/api/v1/orders/${orderId}` });
      if (reply.httpStatus !== 200) noteError(reply);
      return { ok: reply.httpStatus === 200 };
    },
  };
}

/**
 * One WebSocket client per token; with a token, it authenticates as an order-entry socket (replies
 * only, the same traffic as the echo). With `privateStreams` the sockets get their users' pushes
 * too, but only during their own slices: pushes go to every receiving socket of a user, so sockets
 * left receiving would add their work to the other targets' slices.
 */
export async function webSocketTarget(
  name: string,
  server: Child,
  tokens: Array<string | undefined>,
  privateStreams = false,
): Promise<Target> {
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const connections = await Promise.all(tokens.map(() => webSocketSender(url)));
  await Promise.all(
    connections.map((connection, index) =>
      tokens[index] === undefined
        ? undefined
        : connection.send({ op: 'auth', token: tokens[index], private: false }),
    ),
  );
  const receivePushes = async (enabled: boolean) => {
    await Promise.all(connections.map((connection) => connection.send({ op: 'private', enabled })));
  };
  return {
    name,
    ...(privateStreams
      ? { beforeSlice: () => receivePushes(true), afterSlice: () => receivePushes(false) }
      : {}),
    serverPid: server.child.pid,
    clients: connections.map((connection) => webSocketClient(connection.send)),
    close: async () => {
      for (const connection of connections) connection.socket.close();
    },
  };
}

export function restTarget(name: string, server: Child, tokens: Array<string | undefined>): Target {
  const senders = tokens.map((token) => httpSender(server.port, token));
  return {
    name,
    serverPid: server.child.pid,
    clients: senders.map((sender) => restClient(sender.send)),
    close: async () => {
      for (const sender of senders) sender.agent.destroy();
    },
  };
}
