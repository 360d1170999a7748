// Opaque keyset cursors: the sort key of the last row of a page, as base64url JSON. Clients must
// not build them; the store checks every decoded cursor and answers INVALID_CURSOR otherwise.
import { StoreError } from './errors.js';
import type { HistoryQuery } from './ports.js';

export const pageSizeMax = 500;
const cursorLengthMax = 256;

export function encodeCursor(key: readonly number[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, keyLength: number): number[] | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  if (cursor.length > cursorLengthMax) throw new StoreError('INVALID_CURSOR', 'cursor too long');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new StoreError('INVALID_CURSOR', 'cursor is not one this store issued');
  }
  const valid =
    Array.isArray(key) &&
    key.length === keyLength &&
    key.every((part) => Number.isSafeInteger(part) && part >= 0);
  if (!valid) throw new StoreError('INVALID_CURSOR', 'cursor is not one this store issued');
  return key as number[];
}

/** The page size to use: the asked limit, within 1..pageSizeMax. */
export function pageSizeOf(query: HistoryQuery): number {
  if (!Number.isSafeInteger(query.limit) || query.limit < 1) {
    throw new StoreError('INVALID_QUERY', `limit must be an integer from 1 to ${pageSizeMax}`);
  }
  return Math.min(query.limit, pageSizeMax);
}

/** Rows were fetched with one extra to learn whether another page follows. */
export function pageOf<Item>(items: Item[], pageSize: number, keyOf: (item: Item) => number[]) {
  if (items.length <= pageSize) return { items, next: null };
  const page = items.slice(0, pageSize);
  return { items: page, next: encodeCursor(keyOf(page[page.length - 1])) };
}
