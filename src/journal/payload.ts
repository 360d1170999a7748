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
//   place with stop or iceberg fields:
//           u8 tag 4, u8 flags, u8 stp, u8 symbolBytes, u8 extras, u53 ts, user, id, qty, [price],
//           [stopPrice], [displayQty], symbol (ASCII); flags and stp as for tag 1
//           extras: bit 0 stopPrice present, bits 1-2 trigger (0 absent, stopLoss, takeProfit),
//                   bit 3 displayQty present
//   oco     u8 tag 5, u8 flags, u8 stp, u8 symbolBytes, u53 ts, user, id, stopId, qty, price,
//           stopPrice, [stopLimitPrice], symbol (ASCII)
//           flags: bit 0 side sell, bit 1 stopLimitPrice present; stp as for tag 1
//
// A command is written compactly only when JSON would carry it exactly (known keys, non-negative
// safe integers, known enum values, an ASCII symbol), so both forms decode to equal commands and
// replay sees what the live run saw. Anything else (extra keys, odd values the engine will
// reject) is written as JSON.
import type {
  AmendCommand,
  CancelCommand,
  Command,
  OcoCommand,
  OrderType,
  PlaceCommand,
  SelfTradePrevention,
  Side,
  StopTrigger,
  TimeInForce,
} from '../core/types.js';

export type PayloadFormat = 'json' | 'compact';

const placeTag = 1;
const cancelTag = 2;
const amendTag = 3;
const placeExtrasTag = 4;
const ocoTag = 5;
const jsonOpenBrace = 0x7b;
const wordBytes = 8;
const placeExtrasFixedBytes = 5 + 4 * wordBytes;
const ocoFixedBytes = 4 + 7 * wordBytes;
const symbolBytesMax = 255;
/** The largest compact payload: an oco with a stop-limit leg and the longest symbol. */
export const compactPayloadBytesMax = Math.max(
  placeExtrasFixedBytes + 3 * wordBytes + symbolBytesMax,
  ocoFixedBytes + wordBytes + symbolBytesMax,
);
const twoToThe32 = 0x1_0000_0000;

const sideSell = 1;
const typeMarket = 2;
const pricePresent = 4;
const tifShift = 3;
const postOnlyShift = 5;
const stopPricePresent = 1;
const triggerShift = 1;
const displayQtyPresent = 8;
const stopLimitPricePresent = 2;
const triggers: readonly (StopTrigger | undefined)[] = [undefined, 'stopLoss', 'takeProfit'];
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
  'stopPrice',
  'trigger',
  'displayQty',
]);
const ocoKeys = new Set([
  'op',
  'user',
  'symbol',
  'side',
  'qty',
  'id',
  'price',
  'stopId',
  'stopPrice',
  'stopLimitPrice',
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
    case 'oco':
      return writeOco(buffer, offset, command, ts);
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
  const extras = placeExtras(command);
  if (flags === notCompact || stp < 0 || extras === notCompact) return notCompact;
  buffer[offset] = extras === 0 ? placeTag : placeExtrasTag;
  buffer[offset + 1] = flags;
  buffer[offset + 2] = stp;
  buffer[offset + 3] = symbol.length;
  let end = offset + 4;
  if (extras !== 0) buffer[end++] = extras;
  writeWords(buffer, end, ts, command.user, id, command.qty);
  end += 4 * wordBytes;
  end = writeOptionalWord(buffer, end, price);
  end = writeOptionalWord(buffer, end, command.stopPrice);
  end = writeOptionalWord(buffer, end, command.displayQty);
  return end + buffer.write(symbol, end, 'latin1') - offset;
}

/** Writes `value` at `offset` unless it is absent; returns where the next field starts. */
function writeOptionalWord(buffer: Buffer, offset: number, value: number | undefined): number {
  if (value === undefined) return offset;
  writeWords(buffer, offset, value);
  return offset + wordBytes;
}

/** The extras byte of a stop or iceberg place, 0 for a plain one, or notCompact. */
function placeExtras(command: PlaceCommand): number {
  const { stopPrice, displayQty } = command;
  const trigger = triggers.indexOf(command.trigger);
  if (trigger < 0 || (stopPrice !== undefined && !isWord(stopPrice))) return notCompact;
  if (displayQty !== undefined && !isWord(displayQty)) return notCompact;
  return (
    (stopPrice !== undefined ? stopPricePresent : 0) |
    (trigger << triggerShift) |
    (displayQty !== undefined ? displayQtyPresent : 0)
  );
}

function writeOco(buffer: Buffer, offset: number, command: OcoCommand, ts: number): number {
  const { symbol, stopLimitPrice } = command;
  const words = [ts, command.user, command.id, command.stopId, command.qty, command.price, command.stopPrice];
  if (!onlyKeys(command, ocoKeys) || !words.every(isWord)) return notCompact;
  if (stopLimitPrice !== undefined && !isWord(stopLimitPrice)) return notCompact;
  if (typeof symbol !== 'string' || !isAscii(symbol)) return notCompact;
  if (command.side !== 'buy' && command.side !== 'sell') return notCompact;
  const stp = selfTradePreventions.indexOf(command.stp);
  if (stp < 0) return notCompact;
  buffer[offset] = ocoTag;
  buffer[offset + 1] =
    (command.side === 'sell' ? sideSell : 0) | (stopLimitPrice !== undefined ? stopLimitPricePresent : 0);
  buffer[offset + 2] = stp;
  buffer[offset + 3] = symbol.length;
  writeWords(buffer, offset + 4, ...words);
  const end = writeOptionalWord(buffer, offset + ocoFixedBytes, stopLimitPrice);
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
  if (tag === placeTag || tag === placeExtrasTag) return decodePlace(bytes, start, end);
  if (tag === ocoTag) return decodeOco(bytes, start, end);
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
  const hasExtras = bytes[start] === placeExtrasTag;
  const extras = hasExtras ? bytes[start + 4] : 0;
  const wordsStart = start + (hasExtras ? 5 : 4);
  const hasPrice = (flags & pricePresent) !== 0;
  const hasStopPrice = (extras & stopPricePresent) !== 0;
  const hasDisplayQty = (extras & displayQtyPresent) !== 0;
  const trigger = triggers[(extras >> triggerShift) & 3];
  const optionalWords = Number(hasPrice) + Number(hasStopPrice) + Number(hasDisplayQty);
  const symbolStart = wordsStart + (4 + optionalWords) * wordBytes;
  if (
    symbolStart + symbolBytes !== end ||
    bytes[start + 2] >= selfTradePreventions.length ||
    (hasExtras && (extras === 0 || extras >= 16 || ((extras >> triggerShift) & 3) >= triggers.length))
  )
    throw new Error(`malformed compact place payload of ${end - start} bytes`);
  const place: PlaceCommand = {
    op: 'place',
    user: readWord(bytes, wordsStart + wordBytes),
    id: readWord(bytes, wordsStart + 2 * wordBytes),
    symbol: symbolAt(bytes, symbolStart, end),
    side: (flags & sideSell) !== 0 ? 'sell' : ('buy' as Side),
    type: (flags & typeMarket) !== 0 ? 'market' : ('limit' as OrderType),
    qty: readWord(bytes, wordsStart + 3 * wordBytes),
    ts: readWord(bytes, wordsStart),
  };
  let optional = wordsStart + 4 * wordBytes;
  if (hasPrice) {
    place.price = readWord(bytes, optional);
    optional += wordBytes;
  }
  const tif = timesInForce[(flags >> tifShift) & 3];
  if (tif !== undefined) place.tif = tif;
  const postOnly = (flags >> postOnlyShift) & 3;
  if (postOnly !== 0) place.postOnly = postOnly === 2;
  if (stp !== undefined) place.stp = stp;
  if (hasStopPrice) {
    place.stopPrice = readWord(bytes, optional);
    optional += wordBytes;
  }
  if (trigger !== undefined) place.trigger = trigger;
  if (hasDisplayQty) place.displayQty = readWord(bytes, optional);
  return place;
}

function decodeOco(bytes: Buffer, start: number, end: number): OcoCommand {
  const flags = bytes[start + 1];
  const stp = selfTradePreventions[bytes[start + 2]];
  const hasStopLimitPrice = (flags & stopLimitPricePresent) !== 0;
  const symbolStart = start + ocoFixedBytes + (hasStopLimitPrice ? wordBytes : 0);
  if (symbolStart + bytes[start + 3] !== end || bytes[start + 2] >= selfTradePreventions.length)
    throw new Error(`malformed compact oco payload of ${end - start} bytes`);
  const word = (index: number) => readWord(bytes, start + 4 + index * wordBytes);
  const oco: OcoCommand = {
    op: 'oco',
    user: word(1),
    symbol: symbolAt(bytes, symbolStart, end),
    side: (flags & sideSell) !== 0 ? 'sell' : 'buy',
    qty: word(4),
    id: word(2),
    price: word(5),
    stopId: word(3),
    stopPrice: word(6),
    ts: word(0),
  };
  if (hasStopLimitPrice) oco.stopLimitPrice = word(7);
  if (stp !== undefined) oco.stp = stp;
  return oco;
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
