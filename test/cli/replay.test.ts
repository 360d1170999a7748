// `hoga replay` end to end: runs the built CLI as a child process on a small command file and
// checks the events file line by line and the summary line on stdout.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cli = join(root, 'bin', 'hoga.js');

const commandLines = [
  '{"op":"symbol","symbol":"BTC-KRW","base":"BTC","quote":"KRW","lotSize":1000,"tickSize":10,"makerFeeBps":10,"takerFeeBps":20}',
  '{"op":"deposit","user":1,"asset":"KRW","amount":100000}',
  '{"op":"deposit","user":2,"asset":"BTC","amount":5000}',
  '',
  '{"op":"place","user":2,"id":1,"symbol":"BTC-KRW","side":"sell","type":"limit","qty":3,"price":1000}',
  '{"op":"place","user":1,"id":2,"symbol":"BTC-KRW","side":"buy","type":"limit","qty":5,"price":1100,"tif":"IOC"}',
  'this is not json',
  '{"op":"place","user":1,"id":2,"symbol":"BTC-KRW","side":"buy","type":"limit","qty":1,"price":1000}',
  '{"op":"place","user":2,"id":3,"symbol":"BTC-KRW","side":"sell","type":"limit","qty":2,"price":1200}',
  '{"op":"amend","user":2,"id":3,"qty":1}',
  '{"op":"cancel","user":2,"id":3}',
];

const expectedEvents = [
  { ev: 'trade', symbol: 'BTC-KRW', taker: 2, maker: 1, price: 1000, qty: 3, takerFee: 6, makerFee: 3 },
  { ev: 'expired', id: 2, qty: 2, reason: 'UNFILLED' },
  { ev: 'rejected', cmd: 6, id: null, reason: 'UNKNOWN_COMMAND' },
  { ev: 'rejected', cmd: 7, id: 2, reason: 'DUPLICATE_ORDER_ID' },
  { ev: 'amended', id: 3, qty: 1 },
  { ev: 'cancelled', id: 3, qty: 1, reason: 'USER' },
  { ev: 'balance', user: 0, asset: 'BTC', available: 6, locked: 0 },
  { ev: 'balance', user: 0, asset: 'KRW', available: 3, locked: 0 },
  { ev: 'balance', user: 1, asset: 'BTC', available: 2994, locked: 0 },
  { ev: 'balance', user: 1, asset: 'KRW', available: 97000, locked: 0 },
  { ev: 'balance', user: 2, asset: 'BTC', available: 2000, locked: 0 },
  { ev: 'balance', user: 2, asset: 'KRW', available: 2997, locked: 0 },
];

/** A cascade through two stops, an iceberg maker refilled once, and an OCO pair cancelled by its owner. */
const stopCommandLines = [
  '{"op":"symbol","symbol":"X","base":"B","quote":"Q","lotSize":1,"tickSize":1,"makerFeeBps":0,"takerFeeBps":0}',
  '{"op":"deposit","user":1,"asset":"B","amount":100}',
  '{"op":"deposit","user":2,"asset":"Q","amount":10000}',
  '{"op":"place","user":1,"id":1,"symbol":"X","side":"sell","type":"limit","qty":6,"price":100,"displayQty":2}',
  '{"op":"place","user":1,"id":2,"symbol":"X","side":"sell","type":"limit","qty":5,"price":101}',
  '{"op":"place","user":2,"id":3,"symbol":"X","side":"buy","type":"market","qty":3,"stopPrice":100,"trigger":"stopLoss"}',
  '{"op":"place","user":2,"id":4,"symbol":"X","side":"buy","type":"limit","qty":2,"price":101,"stopPrice":101,"trigger":"stopLoss"}',
  '{"op":"oco","user":2,"symbol":"X","side":"buy","qty":1,"id":5,"price":90,"stopId":6,"stopPrice":120}',
  '{"op":"amend","user":2,"id":5,"qty":1}',
  '{"op":"place","user":2,"id":7,"symbol":"X","side":"buy","type":"limit","qty":1,"price":100}',
  '{"op":"cancel","user":2,"id":6}',
];

const expectedStopLines = [
  '{"ev":"rejected","cmd":8,"id":5,"reason":"NOT_AMENDABLE"}',
  '{"ev":"trade","symbol":"X","taker":7,"maker":1,"price":100,"qty":1,"takerFee":0,"makerFee":0}',
  '{"ev":"triggered","id":3}',
  '{"ev":"trade","symbol":"X","taker":3,"maker":1,"price":100,"qty":1,"takerFee":0,"makerFee":0}',
  '{"ev":"trade","symbol":"X","taker":3,"maker":1,"price":100,"qty":2,"takerFee":0,"makerFee":0}',
  '{"ev":"cancelled","id":6,"qty":1,"reason":"USER"}',
  '{"ev":"cancelled","id":5,"qty":1,"reason":"OCO"}',
  '{"ev":"balance","user":1,"asset":"B","available":89,"locked":7}',
  '{"ev":"balance","user":1,"asset":"Q","available":400,"locked":0}',
  '{"ev":"balance","user":2,"asset":"B","available":4,"locked":0}',
  '{"ev":"balance","user":2,"asset":"Q","available":9398,"locked":202}',
];

describe('hoga replay', () => {
  it('writes the spec lines and prints the summary last', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'hoga-replay-'));
    try {
      const input = join(directory, 'commands.ndjson');
      const output = join(directory, 'events.ndjson');
      await writeFile(input, `${commandLines.join('\n')}\n`);
      const { stdout } = await run(process.execPath, [cli, 'replay', '--in', input, '--out', output], {
        cwd: root,
      });
      const written = (await readFile(output, 'utf8')).split('\n');
      assert.equal(written.pop(), '', 'the file ends with a newline');
      assert.deepEqual(
        written.map((line) => JSON.parse(line)),
        expectedEvents,
      );
      // Key order is part of the format: compare the raw text of one line too.
      assert.equal(written[0], JSON.stringify(expectedEvents[0]));
      const lastLine = stdout.trim().split('\n').at(-1) ?? '';
      const summary = JSON.parse(lastLine);
      assert.deepEqual(Object.keys(summary), [
        'commands',
        'seconds',
        'commandsPerSec',
        'p50Us',
        'p99Us',
        'p999Us',
        'stateHash',
      ]);
      assert.equal(summary.commands, commandLines.length - 1, 'blank lines are not commands');
      assert.ok(summary.seconds > 0 && summary.commandsPerSec > 0);
      assert.ok(summary.p50Us <= summary.p99Us && summary.p99Us <= summary.p999Us);
      assert.match(summary.stateHash, /^[0-9a-f]{16}$/);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('reads stop orders and oco, writes triggered and OCO cancels in the exact format', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'hoga-replay-stops-'));
    try {
      const input = join(directory, 'commands.ndjson');
      const output = join(directory, 'events.ndjson');
      await writeFile(input, `${stopCommandLines.join('\n')}\n`);
      await run(process.execPath, [cli, 'replay', '--in', input, '--out', output], { cwd: root });
      const written = (await readFile(output, 'utf8')).trimEnd().split('\n');
      assert.deepEqual(written, expectedStopLines);
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('fails with one line on stderr when the input file is missing', async () => {
    const missing = join(tmpdir(), 'hoga-replay-missing', 'nothing.ndjson');
    await assert.rejects(
      run(process.execPath, [cli, 'replay', '--in', missing, '--out', join(tmpdir(), 'unused.ndjson')], {
        cwd: root,
      }),
      (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 1);
        assert.match(error.stderr ?? '', /^hoga replay: ENOENT[^\n]*\n$/);
        return true;
      },
    );
  });
});
