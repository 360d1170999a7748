// Gateway benchmark (`npm run bench:gateway`): the same run as `hoga bench gateway`. Orders over
// WebSocket and REST against the durable exchange, with a bare ws echo server and a bare Fastify
// route as ceilings in the same run; full load, then half of it for latency.
//
//   npm run bench:gateway -- [--clients N] [--depth N] [--seconds N] [--rounds N] [--ws-only | --rest-only]
//                            [--paced-rate N] [--json]
import os from 'node:os';
import { formatResults, runGatewayBench } from '../src/cli/bench-gateway.js';
import { parseBenchOptions } from './lib/args.js';

const options = parseBenchOptions('gateway', {
  clients: {
    kind: 'integer',
    default: 64,
    minimum: 1,
    description: 'concurrent clients, one user and session each',
  },
  depth: { kind: 'integer', default: 2, minimum: 1, description: 'requests in flight per client' },
  seconds: { kind: 'integer', default: 12, minimum: 1, description: 'seconds per phase' },
  rounds: { kind: 'integer', default: 3, minimum: 1, description: 'alternating slices per phase' },
  'ws-only': { kind: 'flag', description: 'measure only orders over WebSocket' },
  'rest-only': { kind: 'flag', description: 'measure only orders over REST' },
  json: { kind: 'flag', description: 'print the results as JSON' },
  'paced-rate': {
    kind: 'integer',
    default: 0,
    minimum: 0,
    description: "the exchange's half phases at N ops/s; 0: half its own full rate",
  },
});

const transports = options['ws-only'] ? 'ws' : options['rest-only'] ? 'rest' : 'both';
const pacedRate = options['paced-rate'] > 0 ? options['paced-rate'] : undefined;
const results = await runGatewayBench({ ...options, transports, pacedRate });
if (options.json)
  process.stdout.write(`${JSON.stringify({ machine: `${os.cpus().length} cores`, results })}\n`);
else
  process.stdout.write(
    `machine: ${os.cpus().length} cores (shared), node ${process.version}\n${formatResults(results)}\n`,
  );
