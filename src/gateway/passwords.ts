// Password hashing with scrypt (OWASP: N=2^17, r=8, p=1) on a bounded pool. Node's scrypt runs on
// the libuv threadpool, which the journal's file I/O also uses: a burst of logins must never starve
// fsync. So at most `concurrentHashesMax` hashes run at once, at most `waitingHashesMax` wait, and
// the rest are refused at once (503 BUSY) instead of queueing without bound. Waiters queue in two
// lanes: a free slot goes to the trusted lane first (logins from known devices, src/gateway/login-guard.ts),
// so a flood of guesses fills only the general lane and a known device waits at most for the hash
// in progress.
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { GatewayError } from './errors.js';

export interface ScryptCost {
  /** log2 of N. */
  costLog2: number;
  blockSize: number;
  parallelism: number;
}

export const owaspScryptCost: ScryptCost = { costLog2: 17, blockSize: 8, parallelism: 1 };

export interface PasswordHasherOptions {
  cost: ScryptCost;
  concurrentHashesMax: number;
  /** Bound of each lane's wait queue. */
  waitingHashesMax: number;
}

export type HashLane = 'trusted' | 'general';

const saltBytes = 16;
const hashBytes = 32;
/** Longest password hashed: beyond this scrypt's cost is dominated by input size for nothing. */
export const passwordLengthMax = 256;

function memoryBytesFor(cost: ScryptCost): number {
  // scrypt needs 128 * N * r bytes; leave headroom so Node never refuses a valid hash.
  return 2 * 128 * 2 ** cost.costLog2 * cost.blockSize + 1024 * 1024;
}

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const options = {
      N: 2 ** cost.costLog2,
      r: cost.blockSize,
      p: cost.parallelism,
      maxmem: memoryBytesFor(cost),
    };
    scrypt(password, salt, hashBytes, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

interface Encoded {
  cost: ScryptCost;
  salt: Buffer;
  hash: Buffer;
}

/** `scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>`: parameters travel with the hash. */
function encode(value: Encoded): string {
  const { costLog2, blockSize, parallelism } = value.cost;
  return [
    'scrypt',
    costLog2,
    blockSize,
    parallelism,
    value.salt.toString('base64'),
    value.hash.toString('base64'),
  ].join('$');
}

function decode(text: string): Encoded | undefined {
  const parts = text.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return undefined;
  const [costLog2, blockSize, parallelism] = parts.slice(1, 4).map(Number);
  if (![costLog2, blockSize, parallelism].every((value) => Number.isInteger(value) && value > 0))
    return undefined;
  return {
    cost: { costLog2, blockSize, parallelism },
    salt: Buffer.from(parts[4], 'base64'),
    hash: Buffer.from(parts[5], 'base64'),
  };
}

export class PasswordHasher {
  private running = 0;
  private readonly waiting: Record<HashLane, Array<() => void>> = { trusted: [], general: [] };

  constructor(private readonly options: PasswordHasherOptions) {}

  get queueDepth(): number {
    return this.waiting.trusted.length + this.waiting.general.length;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(saltBytes);
    const hash = await this.bounded('general', () => derive(password, salt, this.options.cost));
    return encode({ cost: this.options.cost, salt, hash });
  }

  async verify(password: string, encoded: string, lane: HashLane = 'general'): Promise<boolean> {
    const stored = decode(encoded);
    if (stored === undefined) return false;
    const hash = await this.bounded(lane, () => derive(password, stored.salt, stored.cost));
    return hash.length === stored.hash.length && timingSafeEqual(hash, stored.hash);
  }

  private async bounded<T>(lane: HashLane, work: () => Promise<T>): Promise<T> {
    if (this.running >= this.options.concurrentHashesMax) {
      const queue = this.waiting[lane];
      if (queue.length >= this.options.waitingHashesMax) {
        throw new GatewayError('BUSY', 'too many logins in progress, retry shortly', undefined, 1);
      }
      await new Promise<void>((resolve) => queue.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.trusted.shift() ?? this.waiting.general.shift();
      // The slot passes straight to the next waiter; `running` only drops when nobody waits.
      if (next === undefined) this.running -= 1;
      else next();
    }
  }
}
