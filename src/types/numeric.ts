// float, integer and boolean: the types the wasm table holds. The rules here
// run in the pure-JS paths (validation of imports, the reference backend);
// assembly/table.ts applies the same rules on the wasm hot path, and the
// differential tests hold the two to each other.

import { z } from 'zod';
import { decodeNumber, type EncodedNumber, encodeNumber, type TypeSpec, type VariableValue, type Violation } from './spec.js';

export interface NumericConstraints {
  readonly min?: number | undefined;
  readonly max?: number | undefined;
}

/** Bounds ready for a compare; open ends are ±Infinity, as the wasm table stores them. */
export interface Bounds {
  readonly min: number;
  readonly max: number;
}

const numericSchema = z.strictObject({
  min: z.number().finite().optional(),
  max: z.number().finite().optional(),
});

function crossCheckBounds(c: NumericConstraints): string | undefined {
  return c.min !== undefined && c.max !== undefined && c.min > c.max ? `min (${c.min}) is greater than max (${c.max})` : undefined;
}

function compileBounds(c: NumericConstraints): Bounds {
  return { min: c.min ?? Number.NEGATIVE_INFINITY, max: c.max ?? Number.POSITIVE_INFINITY };
}

function boundsViolation(value: number, bounds: Bounds): Violation | undefined {
  if (value < bounds.min) return { rule: 'min', expected: `>= ${bounds.min}` };
  if (value > bounds.max) return { rule: 'max', expected: `<= ${bounds.max}` };
  return undefined;
}

function copyBounds(c: NumericConstraints): NumericConstraints {
  return { ...c };
}

const SPECIAL_FLOAT_INPUTS: Readonly<Record<string, number>> = Object.freeze({
  __proto__: null,
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
} as unknown as Record<string, number>);

/** float: any number; the strings 'NaN', 'Infinity', '-Infinity'. Nothing else. */
export function floatFromInput(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return SPECIAL_FLOAT_INPUTS[value];
  return undefined;
}

/** integer: safe integers only; -0 becomes 0 (an integer has no sign of zero). */
export function integerFromInput(value: unknown): number | undefined {
  return Number.isSafeInteger(value) ? (value as number) + 0 : undefined;
}

/** boolean: true/false, 'true'/'false', 1/0, as the origin design accepts. */
export function booleanFromInput(value: unknown): boolean | undefined {
  if (value === true || value === 'true' || value === 1) return true;
  if (value === false || value === 'false' || value === 0) return false;
  return undefined;
}

export const floatSpec: TypeSpec<NumericConstraints, Bounds> = {
  type: 'float',
  numeric: true,
  expects: "a number or 'NaN', 'Infinity', '-Infinity'",
  constraintSchema: numericSchema,
  crossCheck: crossCheckBounds,
  compile: compileBounds,
  coerce: floatFromInput,
  // NaN and ±Infinity bypass min/max, as in the origin design.
  violation: (value, bounds) => (Number.isFinite(value) ? boundsViolation(value as number, bounds) : undefined),
  encode: (value): EncodedNumber => encodeNumber(value as number),
  decode: decodeNumber,
  encodeConstraints: copyBounds,
  decodeConstraints: (encoded) => encoded,
  copyConstraints: copyBounds,
};

export const integerSpec: TypeSpec<NumericConstraints, Bounds> = {
  type: 'integer',
  numeric: true,
  expects: 'a safe integer',
  constraintSchema: numericSchema,
  crossCheck: crossCheckBounds,
  compile: compileBounds,
  coerce: integerFromInput,
  violation: (value, bounds) => boundsViolation(value as number, bounds),
  encode: (value) => value,
  decode: integerFromInput,
  encodeConstraints: copyBounds,
  decodeConstraints: (encoded) => encoded,
  copyConstraints: copyBounds,
};

export type BooleanConstraints = Readonly<Record<string, never>>;

export const booleanSpec: TypeSpec<BooleanConstraints, undefined> = {
  type: 'boolean',
  numeric: true,
  expects: "true, false, 'true', 'false', 1 or 0",
  constraintSchema: z.strictObject({}),
  crossCheck: () => undefined,
  compile: () => undefined,
  coerce: booleanFromInput,
  violation: () => undefined,
  encode: (value) => value,
  decode: (encoded) => (typeof encoded === 'boolean' ? encoded : undefined),
  encodeConstraints: () => ({}),
  decodeConstraints: (encoded) => encoded,
  copyConstraints: () => ({}),
};

/** The f64 the wasm table stores for a coerced numeric value. */
export function toCell(value: VariableValue): number {
  return typeof value === 'boolean' ? (value ? 1 : 0) : (value as number);
}
