// Metadata is plain JSON data: copied on the way in, frozen, and safe to hand
// out. Keys such as "__proto__" are kept as own data properties, never as a
// prototype.

import { quote, StateError } from './errors.js';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type Metadata = Readonly<Record<string, JsonValue>>;

/** Nesting beyond this is refused rather than risking the stack. */
export const MAX_METADATA_DEPTH = 64;

export const EMPTY_METADATA: Metadata = Object.freeze({});

/** Sets an own enumerable property, even for the key "__proto__". */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function fail(context: string, path: string, why: string): never {
  throw new StateError('invalid_argument', `${context}: metadata${path} ${why}`, { rule: 'metadata', path: `metadata${path}` });
}

function copyJson(value: unknown, context: string, path: string, depth: number, seen: Set<object>): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) fail(context, path, `is ${value}, which JSON cannot represent`);
      return value + 0; // JSON has no -0: store what an export will carry
    case 'object':
      break;
    default:
      fail(context, path, `is a ${typeof value}; metadata must be plain JSON data`);
  }
  if (value === null) return null;
  if (depth >= MAX_METADATA_DEPTH) fail(context, path, `nests deeper than ${MAX_METADATA_DEPTH} levels`);
  if (seen.has(value)) fail(context, path, 'is a cycle');
  seen.add(value);
  let copy: JsonValue;
  if (Array.isArray(value)) {
    const out = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = copyJson(value[i], context, `${path}[${i}]`, depth + 1, seen);
    copy = Object.freeze(out);
  } else {
    if (!isPlainObject(value))
      fail(context, path, `is a ${value.constructor?.name ?? 'non-plain object'}; metadata must be plain JSON data`);
    if (Object.getOwnPropertySymbols(value).length > 0) fail(context, path, 'has symbol keys');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      setOwn(out, key, copyJson((value as Record<string, unknown>)[key], context, `${path}.${key}`, depth + 1, seen));
    }
    copy = Object.freeze(out) as JsonValue;
  }
  seen.delete(value);
  return copy;
}

/** A frozen deep copy of a metadata object, or `invalid_argument`. `context` names the variable or call. */
export function copyMetadata(value: unknown, context: string): Metadata {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StateError('invalid_argument', `${context}: metadata must be a plain object`, { rule: 'metadata', path: 'metadata' });
  }
  try {
    const copy = copyJson(value, context, '', 0, new Set()) as Metadata;
    // One shared empty object: stores keep no entry for it (most variables have no metadata).
    return Object.keys(copy).length === 0 ? EMPTY_METADATA : copy;
  } catch (error) {
    if (error instanceof StateError) throw error;
    // A getter or a Proxy trap threw while the metadata was read.
    throw new StateError('invalid_argument', `${context}: metadata could not be read: ${String(error)}`, {
      rule: 'metadata',
      path: 'metadata',
    });
  }
}

/** Shallow merge of frozen metadata objects; returns `base` itself when there is nothing to add. */
export function mergeMetadata(base: Metadata, extra: Metadata): Metadata {
  const keys = Object.keys(extra);
  if (keys.length === 0) return base;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(base)) setOwn(out, key, base[key]);
  for (const key of keys) setOwn(out, key, extra[key]);
  return Object.freeze(out) as Metadata;
}

/** Metadata for a new variable: `description` goes in as metadata.description. */
export function initialMetadata(name: string, description: unknown, metadata: unknown): Metadata {
  const context = `Variable ${quote(name)}`;
  let result = metadata === undefined ? EMPTY_METADATA : copyMetadata(metadata, context);
  if (description !== undefined) {
    if (typeof description !== 'string') {
      throw new StateError('invalid_argument', `${context}: description must be a string`, { variable: name, rule: 'description' });
    }
    result = mergeMetadata(result, Object.freeze({ description }));
  }
  return result;
}
