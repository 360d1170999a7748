// Test doubles for the market-data tests: a socket-shaped client that records what it is sent.
import type { ChannelClient } from '../../src/marketdata/index.js';

export interface WireMessage {
  ch?: string;
  seq?: number;
  data?: unknown;
  snapshot?: boolean;
  reset?: boolean;
  id?: unknown;
  op?: string;
  ok?: boolean;
  epoch?: string;
  error?: { code: string; message: string };
}

export class RecordingClient implements ChannelClient {
  readonly sent: string[] = [];
  bufferedAmount = 0;
  closedWith: { code: number; reason: string } | undefined;

  send(data: string): void {
    this.sent.push(data);
  }

  close(code: number, reason: string): void {
    this.closedWith = { code, reason };
  }

  /** Everything received so far, parsed, and forgotten. */
  take(): WireMessage[] {
    return this.sent.splice(0).map((text) => JSON.parse(text) as WireMessage);
  }
}
