// The two JetStream streams of cluster mode (docs/CLUSTER.md): `<prefix>_CMD`, every command in
// the order the cluster accepted it (its stream sequence is the command's sequence), and
// `<prefix>_EVT`, one outcome per command at the same sequence. Engine replicas read CMD and append
// to EVT; gateways and the projector read EVT. Both keep everything (no age or size limit): a
// replica or projector that starts late replays them from its checkpoint.
import {
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';

export interface StreamNames {
  cmdStream: string;
  evtStream: string;
  cmdSubject: string;
  evtSubject: string;
  /** Core NATS subject the engine replicas publish their state hashes on (not stored). */
  hashSubject: string;
}

/** Stream names may not hold `.`, `*`, `>`, whitespace or path separators. */
export const prefixPattern = /^[A-Za-z0-9_-]{1,32}$/;

export function streamNames(prefix: string): StreamNames {
  if (!prefixPattern.test(prefix)) {
    throw new Error(`NATS prefix ${JSON.stringify(prefix)} must match ${prefixPattern}`);
  }
  return {
    cmdStream: `${prefix}_CMD`,
    evtStream: `${prefix}_EVT`,
    cmdSubject: `${prefix}.cmd`,
    evtSubject: `${prefix}.evt`,
    hashSubject: `${prefix}.hash`,
  };
}

/** How long JetStream remembers a Nats-Msg-Id: a client retry within it gets the original sequence. */
export const duplicateWindowMs = 10 * 60_000;

function config(name: string, subject: string, replicas: number): Partial<StreamConfig> & { name: string } {
  return {
    name,
    subjects: [subject],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: duplicateWindowMs * 1_000_000,
    // One publisher per stream can be fenced on the last sequence only when nothing else lands.
    allow_rollup_hdrs: false,
    deny_delete: true,
    deny_purge: true,
  };
}

/**
 * Creates both streams, or updates their replica count when they exist (a single-node test
 * server needs 1, the 3-node cluster 3). Idempotent: every role calls it at start.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  names: StreamNames,
  replicas: number,
): Promise<void> {
  for (const [name, subject] of [
    [names.cmdStream, names.cmdSubject],
    [names.evtStream, names.evtSubject],
  ]) {
    const wanted = config(name, subject, replicas);
    try {
      const info = await jsm.streams.info(name);
      if (info.config.num_replicas !== replicas) {
        await jsm.streams.update(name, { ...info.config, num_replicas: replicas });
      }
    } catch (error) {
      if (!(error instanceof JetStreamApiError) || error.code !== 10059) throw error;
      try {
        await jsm.streams.add(wanted);
      } catch (addError) {
        // Another role created it at the same moment: fine when it exists now.
        await jsm.streams.info(name).catch(() => {
          throw addError;
        });
      }
    }
  }
}

/** Removes both streams (tests, `hoga cluster down --purge`). */
export async function deleteStreams(jsm: JetStreamManager, names: StreamNames): Promise<void> {
  for (const name of [names.cmdStream, names.evtStream]) {
    await jsm.streams.delete(name).catch(() => false);
  }
}
