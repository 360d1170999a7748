// Record payloads. A payload is either the command as UTF-8 JSON (always starts with `{`) or,
// for the hot commands, a compact binary form whose first byte is a tag below 0x20. The first
// byte is the format flag: segments written before the compact form existed read unchanged.
//
// Compact layout (integers are unsigned, little endian; a "u53" is a u32 low word then a u32
// high word, holding a non-negative safe integer):
//   place   u8 tag 1, u8 flags, u8 stp, u8 symbolBytes, u53 ts, user, id, qty, [price], symbol (ASCII)
//           flags: bit 0 side sell, bit 1 type market, bit 2 price present,
//                  bits 3-4 tif (0 absent, GTC, IOC, FOK), bits 5-6 postOnly (0 absent, false, true)
//           stp: 0 absent, then none, expireMaker, expireTaker, expireBoth
//   cancel  u8 tag 2, u53 ts, user, id
//   amend   u8 tag 3, u53 ts, user, id, qty
//
// A command is written compactly only when JSON would carry it exactly (known keys, non-negative
// safe integers, known enum values, an ASCII symbol), so both forms decode to equal commands and
// replay sees what the live run saw. Anything else (extra keys, odd values the engine will
// reject) is written as JSON.
import type {
  AmendCommand,
  CancelCommand,
  Command,
  OrderType,
  PlaceCommand,
  SelfTradePrevention,
  Side,
  TimeInForce,
} from '../core/types.js';

export type PayloadFormat = 'json' | 'compact';

const placeTag = 1;
const cancelTag = 2;
const amendTag = 3;
const jsonOpenBrace = 0x7b;
const wordBytes = 8;
const placeFixedBytes = 4 + 4 * wordBytes;
const symbolBytesMax = 255;
/** The largest compact payload: a place with a price and the longest symbol. */
export const compactPayloadBytesMax = placeFixedBytes + wordBytes + symbolBytesMax;
const twoToThe32 = 0x1_0000_0000;

const sideSell = 1;
const typeMarket = 2;
const pricePresent = 4;
const tifShift = 3;
const postOnlyShift = 5;
const timesInForce: readonly (TimeInForce | undefined)[] = [undefined, 'GTC', 'IOC', 'FOK'];
const selfTradePreventions: readonly (SelfTradePrevention | undefined)[] = [
  undefined,
  'none',
  'expireMaker',
  'expireTaker',
  'expireBoth',
];
const placeKeys = new Set([
  'op',
  'user',
  'id',
  'symbol',
  'side',
  'type',
  'qty',
  'price',
  'tif',
  'postOnly',
  'stp',
  'ts',
]);
const cancelKeys = new Set(['op', 'user', 'id', 'ts']);
const amendKeys = new Set(['op', 'user', 'id', 'qty', 'ts']);

/** Not compact-encodable: the caller writes JSON instead. */
export const notCompact = -1;

/**
 * Writes `command` compactly at `offset`, with `ts` and, for a place without id, `seq` as its id
 * (as the JSON form does). Returns the bytes written, or notCompact. The buffer needs
 * compactPayloadBytesMax bytes of room.
 */
export function writeCompactCommand(
  buffer: Buffer,
  offset: number,
  command: Command,
  seq: number,
  ts: number,
): number {
  if (command === null || typeof command !== 'object' || !isWord(ts)) return notCompact;
  switch (command.op) {
    case 'place':
      return writePlace(buffer, offset, command, seq, ts);
    case 'cancel':
      if (!onlyKeys(command, cancelKeys) || !isWord(command.user) || !isWord(command.id)) return notCompact;
      buffer[offset] = cancelTag;
      writeWords(buffer, offset + 1, ts, command.user, command.id);
      return 1 + 3 * wordBytes;
    case 'amend':
      if (
        !onlyKeys(command, amendKeys) ||
        !isWord(command.user) ||
        !isWord(command.id) ||
        !isWord(command.qty)
      )
        return notCompact;
      buffer[offset] = amendTag;
      writeWords(buffer, offset + 1, ts, command.user, command.id, command.qty);
      return 1 + 4 * wordBytes;
    default:
      return notCompact;
  }
}

function writePlace(buffer: Buffer, offset: number, command: PlaceCommand, seq: number, ts: number): number {
  const id = command.id === undefined || command.id === null ? seq : command.id;
  const { symbol, price } = command;
  if (!onlyKeys(command, placeKeys) || !isWord(command.user) || !isWord(id) || !isWord(command.qty))
    return notCompact;
  if (price !== undefined && !isWord(price)) return notCompact;
  if (typeof symbol !== 'string' || !isAscii(symbol)) return notCompact;
  const flags = placeFlags(command);
  const stp = selfTradePreventions.indexOf(command.stp);
  if (flags === notCompact || stp < 0) return notCompact;
  buffer[offset] = placeTag;
  buffer[offset + 1] = flags;
  buffer[offset + 2] = stp;
  buffer[offset + 3] = symbol.length;
  writeWords(buffer, offset + 4, ts, command.user, id, command.qty);
  let end = offset + placeFixedBytes;
  if (price !== undefined) {
    writeWords(buffer, end, price);
    end += wordBytes;
  }
  return end + buffer.write(symbol, end, 'latin1') - offset;
}

function placeFlags(command: PlaceCommand): number {
  const tif = timesInForce.indexOf(command.tif);
  const postOnly =
    command.postOnly === undefined ? 0 : command.postOnly === false ? 1 : command.postOnly === true ? 2 : -1;
  if (tif < 0 || postOnly < 0) return notCompact;
  if (command.side !== 'buy' && command.side !== 'sell') return notCompact;
  if (command.type !== 'limit' && command.type !== 'market') return notCompact;
  return (
    (command.side === 'sell' ? sideSell : 0) |
    (command.type === 'market' ? typeMarket : 0) |
    (command.price !== undefined ? pricePresent : 0) |
    (tif << tifShift) |
    (postOnly << postOnlyShift)
  );
}

/** Only known keys; JSON drops undefined values, so those do not count. */
function onlyKeys(command: object, allowed: ReadonlySet<string>): boolean {
  const fields = command as Record<string, unknown>;
  for (const key of Object.keys(fields)) if (!allowed.has(key) && fields[key] !== undefined) return false;
  return true;
}

function isWord(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isAscii(text: string): boolean {
  if (text.length > symbolBytesMax) return false;
  for (let index = 0; index < text.length; index++) if (text.charCodeAt(index) > 0x7f) return false;
  return true;
}

function writeWords(buffer: Buffer, offset: number, ...values: number[]): void {
  for (let index = 0; index < values.length; index++) {
    // `+ 0` turns -0 into 0, as JSON does.
    const value = values[index] + 0;
    buffer.writeUInt32LE(value % twoToThe32, offset + index * wordBytes);
    buffer.writeUInt32LE(Math.floor(value / twoToThe32), offset + index * wordBytes + 4);
  }
}

/** The command a payload holds, in either form. Throws on a payload that is neither. */
export function decodeCommand(bytes: Buffer, start: number, end: number): Command {
  const tag = bytes[start];
  if (tag === jsonOpenBrace) return JSON.parse(bytes.toString('utf8', start, end)) as Command;
  if (tag === placeTag) return decodePlace(bytes, start, end);
  if (tag === cancelTag && end - start === 1 + 3 * wordBytes) {
    const cancel: CancelCommand = {
      op: 'cancel',
      user: readWord(bytes, start + 1 + wordBytes),
      id: readWord(bytes, start + 1 + 2 * wordBytes),
      ts: readWord(bytes, start + 1),
    };
    return cancel;
  }
  if (tag === amendTag && end - start === 1 + 4 * wordBytes) {
    const amend: AmendCommand = {
      op: 'amend',
      user: readWord(bytes, start + 1 + wordBytes),
      id: readWord(bytes, start + 1 + 2 * wordBytes),
      qty: readWord(bytes, start + 1 + 3 * wordBytes),
      ts: readWord(bytes, start + 1),
    };
    return amend;
  }
  throw new Error(`unknown payload format: first byte ${tag}, ${end - start} bytes`);
}

function decodePlace(bytes: Buffer, start: number, end: number): PlaceCommand {
  const flags = bytes[start + 1];
  const stp = selfTradePreventions[bytes[start + 2]];
  const symbolBytes = bytes[start + 3];
  const hasPrice = (flags & pricePresent) !== 0;
  const symbolStart = start + placeFixedBytes + (hasPrice ? wordBytes : 0);
  if (symbolStart + symbolBytes !== end || bytes[start + 2] >= selfTradePreventions.length)
    throw new Error(`malformed compact place payload of ${end - start} bytes`);
  const place: PlaceCommand = {
    op: 'place',
    user: readWord(bytes, start + 4 + wordBytes),
    id: readWord(bytes, start + 4 + 2 * wordBytes),
    symbol: symbolAt(bytes, symbolStart, end),
    side: (flags & sideSell) !== 0 ? 'sell' : ('buy' as Side),
    type: (flags & typeMarket) !== 0 ? 'market' : ('limit' as OrderType),
    qty: readWord(bytes, start + 4 + 3 * wordBytes),
    ts: readWord(bytes, start + 4),
  };
  if (hasPrice) place.price = readWord(bytes, start + placeFixedBytes);
  const tif = timesInForce[(flags >> tifShift) & 3];
  if (tif !== undefined) place.tif = tif;
  const postOnly = (flags >> postOnlyShift) & 3;
  if (postOnly !== 0) place.postOnly = postOnly === 2;
  if (stp !== undefined) place.stp = stp;
  return place;
}

function readWord(bytes: Buffer, offset: number): number {
  const low =
    (bytes[offset] | (bytes[offset + 1] << 8) | (bytes[offset + 2] << 16)) + bytes[offset + 3] * 0x100_0000;
  const high =
    (bytes[offset + 4] | (bytes[offset + 5] << 8) | (bytes[offset + 6] << 16)) +
    bytes[offset + 7] * 0x100_0000;
  return low + high * twoToThe32;
}

/** Symbols repeat in almost every record: reuse the string instead of decoding it each time. */
const internedSymbolsMax = 64;
const internedSymbols: string[] = [];

function symbolAt(bytes: Buffer, start: number, end: number): string {
  const length = end - start;
  for (let index = 0; index < internedSymbols.length; index++) {
    const symbol = internedSymbols[index];
    if (symbol.length === length && sameAscii(symbol, bytes, start)) return symbol;
  }
  const symbol = bytes.toString('latin1', start, end);
  if (internedSymbols.length < internedSymbolsMax) internedSymbols.push(symbol);
  return symbol;
}

function sameAscii(text: string, bytes: Buffer, start: number): boolean {
  for (let index = 0; index < text.length; index++)
    if (text.charCodeAt(index) !== bytes[start + index]) return false;
  return true;
}
