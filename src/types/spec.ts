// The contract every variable type implements. Shared by both backends, by
// registration and by import: a type rule is written once, here.

import type { z } from 'zod';
import { describeValue, quote, StateError } from '../errors.js';

export const VARIABLE_TYPES = ['float', 'integer', 'boolean', 'string', 'choice', 'module', 'embedding', 'tensor'] as const;
export type VariableType = (typeof VARIABLE_TYPES)[number];

/** Nested arrays of numbers: the `data` of a tensor. */
export type NestedNumbers = number | readonly NestedNumbers[];

export interface TensorValue {
  readonly shape: readonly number[];
  readonly data: NestedNumbers;
}

/** What a variable holds, as handed out. Arrays and tensors are frozen. */
export type VariableValue = number | boolean | string | readonly number[] | TensorValue;

/** A constraint that failed: the rule's name and what it expected. */
export interface Violation {
  readonly rule: string;
  readonly expected: string;
}

/** JSON-safe form of a number: the four values JSON cannot carry become strings. */
export type EncodedNumber = number | 'NaN' | 'Infinity' | '-Infinity' | '-0';

/**
 * One variable type. `C` is the public constraints object (as the user gave
 * it, validated and frozen); `R` is its compiled form, used on every write.
 */
export interface TypeSpec<C = unknown, R = unknown> {
  readonly type: VariableType;
  /** Held in the wasm table (float, integer, boolean) rather than in JavaScript. */
  readonly numeric: boolean;
  /** Strict zod schema of the constraints: unknown keys are typos. */
  readonly constraintSchema: z.ZodType<C>;
  compile(constraints: C): R;
  /** Checks zod cannot express simply (min <= max, a pattern the engine refuses); returns a message or undefined. */
  crossCheck(constraints: C, rules: R): string | undefined;
  /** Accepts a written value and returns the stored form (copied and frozen), or undefined when the type rejects it. */
  coerce(value: unknown): VariableValue | undefined;
  /** Why `value` (already coerced) breaks the constraints, or undefined. */
  violation(value: VariableValue, rules: R): Violation | undefined;
  /** JSON-safe form of a stored value. */
  encode(value: VariableValue): unknown;
  /** Inverse of encode for import; undefined when the payload is not of the type. */
  decode(encoded: unknown): VariableValue | undefined;
  /** Public constraints in JSON-safe form, and back. */
  encodeConstraints(constraints: C): unknown;
  decodeConstraints(encoded: unknown): unknown;
  /** A copy of the public constraints that the caller may change freely. */
  copyConstraints(constraints: C): C;
  /** What the type accepts, for messages: "a finite number", … */
  readonly expects: string;
}

export function invalidValue(name: string, spec: TypeSpec, value: unknown): StateError {
  return new StateError(
    'invalid_value',
    `Variable ${quote(name)} of type ${spec.type} expects ${spec.expects}, got ${describeValue(value)}`,
    { variable: name, rule: 'type' },
  );
}

export function constraintViolation(name: string, violation: Violation, value: unknown): StateError {
  return new StateError(
    'constraint_violation',
    `Variable ${quote(name)}: ${describeValue(value)} breaks ${violation.rule} (${violation.expected})`,
    { variable: name, rule: violation.rule },
  );
}

export function encodeNumber(value: number): EncodedNumber {
  if (Number.isFinite(value)) return Object.is(value, -0) ? '-0' : value;
  if (Number.isNaN(value)) return 'NaN';
  return value > 0 ? 'Infinity' : '-Infinity';
}

const SPECIAL_NUMBERS: Readonly<Record<string, number>> = Object.freeze({
  __proto__: null,
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
} as unknown as Record<string, number>);

/** Inverse of encodeNumber; undefined for anything else. */
export function decodeNumber(encoded: unknown): number | undefined {
  if (typeof encoded === 'number') return encoded;
  if (typeof encoded === 'string') return SPECIAL_NUMBERS[encoded];
  return undefined;
}

/** `spec.coerce`, with a value whose getters or Proxy traps throw treated as not of the type. */
export function coerce(spec: TypeSpec, value: unknown): VariableValue | undefined {
  try {
    return spec.coerce(value);
  } catch {
    return undefined;
  }
}
