// embedding and tensor: numeric arrays held in JavaScript, copied on the way
// in and frozen, so neither the caller's array nor a value handed out can
// change what the store holds.

import { z } from 'zod';
import { decodeNumber, encodeNumber, type NestedNumbers, type TensorValue, type TypeSpec } from './spec.js';

/** Deeper nesting than this is refused (it would only exhaust the stack). */
export const MAX_TENSOR_RANK = 32;

export interface EmbeddingConstraints {
  readonly dimensions?: number | undefined;
}

export interface TensorConstraints {
  readonly shape?: readonly number[] | undefined;
}

const dimension = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** An object stored first into a new list, so the list keeps boxed elements (see numberList). */
const BOXED_ELEMENTS: unknown = Object.freeze({});

function numberList(value: unknown, decode: boolean): readonly number[] | undefined {
  if (!(Array.isArray(value) || value instanceof Float64Array || value instanceof Float32Array)) return undefined;
  const out = new Array<number>(value.length);
  // Freezing an array of doubles converts it to one of boxed numbers, element by element; an array
  // that holds an object from the start boxes as it fills and freezes without converting (~15% of
  // an embedding write). The placeholder is overwritten by the first element.
  if (value.length > 0) (out as unknown[])[0] = BOXED_ELEMENTS;
  for (let i = 0; i < value.length; i++) {
    const element = decode ? decodeNumber(value[i]) : value[i];
    if (typeof element !== 'number' || !Number.isFinite(element)) return undefined;
    out[i] = element;
  }
  return Object.freeze(out);
}

function isShape(value: unknown): value is readonly number[] {
  return Array.isArray(value) && value.length <= MAX_TENSOR_RANK && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

/** Copies nested arrays of finite numbers, frozen; counts leaves. Undefined when malformed. */
function copyNested(value: unknown, depth: number, decode: boolean, count: { n: number }): NestedNumbers | undefined {
  if (!Array.isArray(value)) {
    const n = decode ? decodeNumber(value) : value;
    if (typeof n !== 'number' || !Number.isFinite(n)) return undefined;
    count.n++;
    return n;
  }
  if (depth >= MAX_TENSOR_RANK) return undefined;
  const out = new Array<NestedNumbers>(value.length);
  for (let i = 0; i < value.length; i++) {
    const element = copyNested(value[i], depth + 1, decode, count);
    if (element === undefined) return undefined;
    out[i] = element;
  }
  return Object.freeze(out);
}

function tensorFrom(value: unknown, decode: boolean): TensorValue | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { shape, data } = value as { shape?: unknown; data?: unknown };
  if (!isShape(shape)) return undefined;
  const count = { n: 0 };
  const copied = copyNested(data, 0, decode, count);
  if (copied === undefined) return undefined;
  const size = shape.reduce((a, b) => a * b, 1);
  if (count.n !== size) return undefined;
  return Object.freeze({ shape: Object.freeze([...shape]), data: copied });
}

function encodeNested(value: NestedNumbers): unknown {
  return typeof value === 'number' ? encodeNumber(value) : value.map(encodeNested);
}

export const embeddingSpec: TypeSpec<EmbeddingConstraints, number | undefined> = {
  type: 'embedding',
  numeric: false,
  expects: 'an array, Float32Array or Float64Array of finite numbers',
  constraintSchema: z.strictObject({ dimensions: dimension.optional() }),
  crossCheck: () => undefined,
  compile: (c) => c.dimensions,
  coerce: (value) => numberList(value, false),
  violation: (value, dimensions) => {
    const n = (value as readonly number[]).length;
    return dimensions !== undefined && n !== dimensions
      ? { rule: 'dimensions', expected: `${dimensions} dimensions, got ${n}` }
      : undefined;
  },
  encode: (value) => (value as readonly number[]).map(encodeNumber),
  decode: (encoded) => numberList(encoded, true),
  encodeConstraints: (c) => ({ ...c }),
  decodeConstraints: (encoded) => encoded,
  copyConstraints: (c) => ({ ...c }),
};

export const tensorSpec: TypeSpec<TensorConstraints, readonly number[] | undefined> = {
  type: 'tensor',
  numeric: false,
  expects: '{ shape: number[], data: nested arrays of finite numbers } whose size is the product of shape',
  constraintSchema: z.strictObject({ shape: z.array(dimension).max(MAX_TENSOR_RANK).optional() }),
  crossCheck: () => undefined,
  compile: (c) => c.shape,
  coerce: (value) => tensorFrom(value, false),
  violation: (value, shape) => {
    const actual = (value as TensorValue).shape;
    return shape !== undefined && (actual.length !== shape.length || actual.some((d, i) => d !== shape[i]))
      ? { rule: 'shape', expected: `shape [${shape.join(', ')}], got [${actual.join(', ')}]` }
      : undefined;
  },
  encode: (value) => ({ shape: [...(value as TensorValue).shape], data: encodeNested((value as TensorValue).data) }),
  decode: (encoded) => tensorFrom(encoded, true),
  encodeConstraints: (c) => (c.shape ? { shape: [...c.shape] } : {}),
  decodeConstraints: (encoded) => encoded,
  copyConstraints: (c) => (c.shape ? { shape: [...c.shape] } : {}),
};
