// Signatures of API-key requests already accepted, on Redis (cluster mode): one key per signature,
// set only if absent and expiring once no window could accept the signature again, so a signed
// request captured on its way to one gateway is refused by every other one too. The keys are
// bounded by their TTL and the request rate the per-IP limit lets through.
import type { Redis } from 'ioredis';
import { replayKeepMs, type SignatureReplay } from '../gateway/api-key-auth.js';
import { sharedUnavailable } from '../gateway/shared-services.js';

export class RedisSignatureReplay implements SignatureReplay {
  private readonly keyPrefix: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.keyPrefix = `${prefix}sig:`;
  }

  async admit(signature: string): Promise<boolean> {
    let set: string | null;
    try {
      set = await this.redis.set(this.keyPrefix + signature, '1', 'PX', replayKeepMs, 'NX');
    } catch {
      throw sharedUnavailable('the shared replay check');
    }
    return set === 'OK';
  }
}
