// Where a session lives in Redis. Every key of a session shares one hash tag,
// `{<prefix>:<session>}`, so a session sits in one cluster slot and every
// script touches one slot; different sessions spread over the cluster.
//
//   {p:s}:names    hash   "<name as JSON>"  → "<id as JSON>"       the name index
//   {p:s}:desc     hash   "<id as JSON>"    → "<order>|<createdAt>|<descriptor JSON>"  (name, type, constraints)
//   {p:s}:val      hash   id                → value, JSON (the export format's encoding: NaN, ±Infinity, -0 exact)
//   {p:s}:ver      hash   id                → version
//   {p:s}:meta     hash   id                → metadata JSON
//   {p:s}:ua       hash   id                → lastUpdatedAt (server time, ms)
//   {p:s}:session  hash   serial, order, seq, count, ops, updates, createdAt, lastImport
//   {p:s}:log      stream one entry per committed change (the change feed: near cache, watches)
//
// Names and ids reach Redis only as JSON strings inside fields, never as key
// names: no name can form another key, touch another session, or lose a lone
// surrogate to UTF-8. A variable's field is its id as JSON, so a lookup by id
// needs no parsing, and Lua can form `"var_<name>_<n>"` from `"<name>"`.

import { invalidArgument } from '../errors.js';

export interface SessionKeys {
  /** `{<prefix>:<session>}`, percent-encoded so that no prefix or session can break out of it. */
  readonly tag: string;
  /** Every key, in the order every script receives them as KEYS. */
  readonly all: readonly string[];
  readonly log: string;
  readonly session: string;
}

/** The key names of every script's KEYS, in order. */
export const KEY_NAMES = ['names', 'desc', 'val', 'ver', 'meta', 'ua', 'session', 'log'] as const;

export function sessionKeys(keyPrefix: string, sessionId: string): SessionKeys {
  for (const [what, value] of [
    ['keyPrefix', keyPrefix],
    ['sessionId', sessionId],
  ] as const) {
    if (!isWellFormed(value)) throw invalidArgument(`RedisState.init: ${what} must be a well-formed string (no lone surrogates)`);
  }
  // encodeURIComponent escapes ':', '{' and '}', so the tag has exactly one of each.
  const tag = `{${encodeURIComponent(keyPrefix)}:${encodeURIComponent(sessionId)}}`;
  const all = KEY_NAMES.map((name) => `${tag}:${name}`);
  return { tag, all, log: `${tag}:log`, session: `${tag}:session` };
}

/** No lone surrogates (what String.prototype.isWellFormed checks, past this project's ES2022 lib). */
function isWellFormed(text: string): boolean {
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** A name, id or identifier as it travels to Redis: JSON, exact for any JavaScript string. */
export const encodeKey = (text: string): string => JSON.stringify(text);
