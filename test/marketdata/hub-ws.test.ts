// Since/reset recovery across a dropped connection, over real `ws` sockets: the gateway hands
// each socket to the hub exactly like this.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { ChannelHub, type ChannelName, type ChannelSource } from '../../src/marketdata/index.js';
import type { WireMessage } from './support.js';

class StateSource implements ChannelSource {
  value = 0;
  has(channel: ChannelName): boolean {
    return channel.symbol === 'BTC-USD';
  }
  snapshot(): unknown {
    return { value: this.value };
  }
}

/** A client socket that queues parsed messages and lets the test await the next ones. */
class TestSocket {
  readonly socket: WebSocket;
  private readonly inbox: WireMessage[] = [];
  private waiter: (() => void) | undefined;

  constructor(url: string) {
    this.socket = new WebSocket(url);
    this.socket.on('message', (data) => {
      this.inbox.push(JSON.parse(String(data)) as WireMessage);
      this.waiter?.();
    });
  }

  async next(count: number): Promise<WireMessage[]> {
    while (this.inbox.length < count) {
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
      });
    }
    return this.inbox.splice(0, count);
  }
}

async function startServer(hub: ChannelHub): Promise<{ server: WebSocketServer; url: string }> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket) => {
    const connection = hub.connect(socket);
    if (connection === undefined) return;
    socket.on('message', (data) => connection.handleText(String(data)));
    socket.on('close', () => connection.close());
  });
  await once(server, 'listening');
  return { server, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

test('a client dropped mid-stream resumes with since and sees every message exactly once', async () => {
  const hub = new ChannelHub({ limits: { historyMax: 64 } });
  const source = new StateSource();
  hub.addSource(source);
  const { server, url } = await startServer(hub);
  const publish = (count: number): void => {
    for (let index = 0; index < count; index += 1) {
      source.value += 1;
      hub.publish('trades.BTC-USD', { value: source.value });
    }
  };
  try {
    publish(5);
    const first = new TestSocket(url);
    await once(first.socket, 'open');
    first.socket.send(JSON.stringify({ op: 'subscribe', id: 1, ch: 'trades.BTC-USD' }));
    const [ack, snapshot] = await first.next(2);
    assert.equal(ack.ok, true);
    assert.deepEqual(snapshot.data, { value: 5 });
    publish(3);
    const live = await first.next(3);
    const values = [snapshot, ...live].map((message) => (message.data as { value: number }).value);
    let lastSeq = live.at(-1)?.seq as number;

    first.socket.terminate();
    await once(first.socket, 'close');
    publish(10);

    const second = new TestSocket(url);
    await once(second.socket, 'open');
    second.socket.send(
      JSON.stringify({ op: 'subscribe', id: 2, ch: 'trades.BTC-USD', since: lastSeq, epoch: ack.epoch }),
    );
    const [resumeAck, ...missed] = await second.next(11);
    assert.equal(resumeAck.seq, 13, 'seq counts from the first subscription: 3 live + 10 missed');
    assert.ok(missed.every((message) => message.snapshot === undefined));
    values.push(...missed.map((message) => (message.data as { value: number }).value));
    assert.deepEqual(
      values,
      Array.from({ length: 14 }, (_, index) => index + 5),
      'no gap, no duplicate',
    );
    lastSeq = missed.at(-1)?.seq as number;

    second.socket.terminate();
    await once(second.socket, 'close');
    publish(100);
    const third = new TestSocket(url);
    await once(third.socket, 'open');
    third.socket.send(
      JSON.stringify({ op: 'subscribe', id: 3, ch: 'trades.BTC-USD', since: lastSeq, epoch: ack.epoch }),
    );
    const [, reset] = await third.next(2);
    assert.equal(reset.snapshot, true);
    assert.equal(reset.reset, true, 'too old for history: a fresh snapshot, flagged');
    assert.deepEqual(reset.data, { value: 118 });
    third.socket.terminate();
  } finally {
    for (const client of server.clients) client.terminate();
    server.close();
  }
});

/** A WebSocket client that subscribes and then never reads: a raw socket, unmasked-key frames. */
async function stalledClient(port: number, channel: string): Promise<import('node:net').Socket> {
  const { connect } = await import('node:net');
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  await once(socket, 'data');
  const payload = Buffer.from(JSON.stringify({ op: 'subscribe', id: 1, ch: channel }));
  // A client frame must be masked; a zero mask key leaves the payload as it is.
  socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]));
  socket.pause();
  return socket;
}

test('a real socket that stops reading is disconnected with 4008 once its send buffer passes the bound', async () => {
  const hub = new ChannelHub({ limits: { sendBufferBytesMax: 256 * 1024 } });
  const source = new StateSource();
  hub.addSource(source);
  const { server, url } = await startServer(hub);
  const stalled = await stalledClient(Number(new URL(url).port), 'trades.BTC-USD');
  const reader = new TestSocket(url);
  try {
    await once(reader.socket, 'open');
    reader.socket.send(JSON.stringify({ op: 'subscribe', id: 2, ch: 'trades.BTC-USD' }));
    await reader.next(2);
    while (hub.stats().connections < 2) await new Promise((resolve) => setImmediate(resolve));
    const bulk = 'x'.repeat(32 * 1024);
    for (let index = 0; index < 2_000 && hub.stats().slowDisconnects === 0; index += 1) {
      hub.publish('trades.BTC-USD', { index, bulk });
      // Let the event loop run after each message, so the reader keeps draining its socket.
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(hub.stats().slowDisconnects, 1, 'the stalled client was cut off');
    assert.equal(hub.stats().connections, 1, 'the reading client stays');
    // Reading again, the client finds a close frame with code 4008 (0x0fa8) and the reason.
    const closeFrame = Buffer.concat([Buffer.from([0x88, 15, 0x0f, 0xa8]), Buffer.from('SLOW_CONSUMER')]);
    const found = new Promise<void>((resolve) => {
      let tail = Buffer.alloc(0);
      stalled.on('data', (chunk: Buffer) => {
        tail = Buffer.concat([tail, chunk]);
        if (tail.includes(closeFrame)) resolve();
        tail = tail.subarray(Math.max(0, tail.length - closeFrame.length));
      });
    });
    stalled.resume();
    await found;
  } finally {
    stalled.destroy();
    for (const client of server.clients) client.terminate();
    server.close();
  }
});
