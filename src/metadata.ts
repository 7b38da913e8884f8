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

/**
 * Where the copy is: the keys and indices from the root, and the objects being copied (a cycle is an
 * object among its own ancestors). Kept as two stacks rather than a path string per property and a
 * Set per copy: a batch copies its metadata once per call, and those allocations were most of it.
 */
interface Trail {
  readonly keys: Array<string | number>;
  readonly ancestors: object[];
}

/** The dotted path of the property being copied: `.a.b[2]`, '' at the root. */
function pathOf(trail: Trail): string {
  let path = '';
  for (const key of trail.keys) path += typeof key === 'number' ? `[${key}]` : `.${key}`;
  return path;
}

function fail(context: string, trail: Trail, why: string): never {
  const path = pathOf(trail);
  throw new StateError('invalid_argument', `${context}: metadata${path} ${why}`, { rule: 'metadata', path: `metadata${path}` });
}

function copyJson(value: unknown, context: string, trail: Trail): JsonValue {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) fail(context, trail, `is ${value}, which JSON cannot represent`);
      return value + 0; // JSON has no -0: store what an export will carry
    case 'object':
      break;
    default:
      fail(context, trail, `is a ${typeof value}; metadata must be plain JSON data`);
  }
  if (value === null) return null;
  const ancestors = trail.ancestors;
  if (ancestors.length >= MAX_METADATA_DEPTH) fail(context, trail, `nests deeper than ${MAX_METADATA_DEPTH} levels`);
  if (ancestors.includes(value)) fail(context, trail, 'is a cycle');
  ancestors.push(value);
  const keys = trail.keys;
  let copy: JsonValue;
  if (Array.isArray(value)) {
    const out = new Array<JsonValue>(value.length);
    for (let i = 0; i < value.length; i++) {
      keys.push(i);
      out[i] = copyJson(value[i], context, trail);
      keys.pop();
    }
    copy = Object.freeze(out);
  } else {
    if (!isPlainObject(value))
      fail(context, trail, `is a ${value.constructor?.name ?? 'non-plain object'}; metadata must be plain JSON data`);
    if (Object.getOwnPropertySymbols(value).length > 0) fail(context, trail, 'has symbol keys');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      keys.push(key);
      setOwn(out, key, copyJson((value as Record<string, unknown>)[key], context, trail));
      keys.pop();
    }
    copy = Object.freeze(out) as JsonValue;
  }
  ancestors.pop();
  return copy;
}

/** A frozen deep copy of a metadata object, or `invalid_argument`. `context` names the variable or call. */
export function copyMetadata(value: unknown, context: string): Metadata {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new StateError('invalid_argument', `${context}: metadata must be a plain object`, { rule: 'metadata', path: 'metadata' });
  }
  try {
    const copy = copyJson(value, context, { keys: [], ancestors: [] }) as Metadata;
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

/**
 * Shallow merge of frozen metadata objects: `base` itself when there is nothing to add, and `extra`
 * itself when it replaces all of `base` (no keys, or the same keys in the same order, as a loop that
 * writes { trial, score } every time leaves it). Both are frozen, so sharing one is safe; a batch with
 * metadata then builds no object per variable.
 */
export function mergeMetadata(base: Metadata, extra: Metadata): Metadata {
  const keys = Object.keys(extra);
  if (keys.length === 0) return base;
  if (base === EMPTY_METADATA || sameKeys(Object.keys(base), keys)) return extra;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(base)) setOwn(out, key, base[key]);
  for (const key of keys) setOwn(out, key, extra[key]);
  return Object.freeze(out) as Metadata;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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
