// The checks every write and registration makes, on every backend: the value
// against its type and constraints, then the version limit. Written once here;
// the wasm table applies the numeric part of the same rules on its own path.

import { describeValue, invalidArgument, quote, type StateError } from './errors.js';
import { initialMetadata, type Metadata } from './metadata.js';
import { parseOptions, registerOptionsSchema } from './options.js';
import { coerce, constraintViolation, invalidValue, parseConstraints, specOf, type TypeSpec, type VariableValue } from './types/index.js';

/** What a write is checked against: a record, a RedisState entry, anything with these fields. */
export interface Checked {
  readonly name: string;
  readonly spec: TypeSpec;
  /** Compiled constraints. */
  readonly rules: unknown;
  readonly version: number;
}

/** The stored form of `input` for a variable of this type and constraints, or `invalid_value` / `constraint_violation`. */
export function checkValue(name: string, spec: TypeSpec, rules: unknown, input: unknown): VariableValue {
  const stored = coerce(spec, input);
  if (stored === undefined) throw invalidValue(name, spec, input);
  const violation = spec.violation(stored, rules);
  if (violation !== undefined) throw constraintViolation(name, violation, input);
  return stored;
}

/** checkValue, then the version limit: what a write to `variable` would store. */
export function checkWrite(variable: Checked, input: unknown): VariableValue {
  const stored = checkValue(variable.name, variable.spec, variable.rules, input);
  if (variable.version >= Number.MAX_SAFE_INTEGER) throw versionLimit(variable.name, input);
  return stored;
}

/** A version must stay an exact integer: at 2^53 - 1 the variable takes no more writes. */
export function versionLimit(name: string, input: unknown): StateError {
  return constraintViolation(name, { rule: 'version', expected: `version is at its limit ${Number.MAX_SAFE_INTEGER}` }, input);
}

/** The first checks of registerVariable: the name, the type and the options' shape. */
export interface RegistrationHead {
  readonly name: string;
  readonly spec: TypeSpec;
  readonly options: { readonly constraints?: unknown; readonly description?: unknown; readonly metadata?: unknown };
}

/** A registration, checked: the value as stored, and the compiled constraints and metadata. */
export interface CheckedRegistration {
  readonly spec: TypeSpec;
  /** Frozen public constraints, as given. */
  readonly constraints: unknown;
  readonly rules: unknown;
  readonly metadata: Metadata;
  readonly value: VariableValue;
}

/**
 * registerVariable's checks come in this order on every backend: the name, the type, the options
 * (checkRegistrationHead); then whether the name is taken (the store or the server knows); then the
 * constraints, the metadata and the initial value (checkRegistrationBody).
 */
export function checkRegistrationHead(name: unknown, type: unknown, options: unknown): RegistrationHead {
  if (typeof name !== 'string' || name.length === 0) {
    throw invalidArgument(`registerVariable: name must be a non-empty string, got ${describeValue(name)}`, { rule: 'name' });
  }
  const spec = specOf(type, name);
  return { name, spec, options: parseOptions(registerOptionsSchema, options ?? {}, `Variable ${quote(name)}: invalid options`) };
}

export function checkRegistrationBody({ name, spec, options }: RegistrationHead, initialValue: unknown): CheckedRegistration {
  const { constraints, rules } = parseConstraints(spec, options.constraints, name);
  const metadata = initialMetadata(name, options.description, options.metadata);
  return { spec, constraints, rules, metadata, value: checkValue(name, spec, rules, initialValue) };
}
