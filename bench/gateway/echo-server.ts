// The gateway benchmark's ceilings, each run as its own child process: a bare `ws` server that
// echoes every message, or a bare Fastify app with the exchange's two order routes. Prints its
// port as one JSON line on stdout.
//
//   node dist/bench/gateway/echo-server.js ws|http
import Fastify from 'fastify';
import { WebSocketServer } from 'ws';

async function serveWebSocketEcho(): Promise<number> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  server.on('connection', (socket) => socket.on('message', (data) => socket.send(data.toString())));
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as { port: number }).port;
}

async function serveBareFastify(): Promise<number> {
  const app = Fastify();
  let orderId = 0;
  app.post('/api/v1/orders', async (request) => ({ orderId: ++orderId, echo: request.body }));
  app.delete('/api/v1/orders/:orderId', async (request) => ({
    cancelled: (request.params as { orderId: string }).orderId,
  }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  return (app.server.address() as { port: number }).port;
}

const kind = process.argv[2];
if (kind !== 'ws' && kind !== 'http') {
  process.stderr.write('usage: echo-server.js ws|http\n');
  process.exit(2);
}
const port = kind === 'ws' ? await serveWebSocketEcho() : await serveBareFastify();
process.stdout.write(`${JSON.stringify({ port })}\n`);
