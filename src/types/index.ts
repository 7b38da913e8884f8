// The type registry: name → spec, plus registration-time constraint parsing.

import { firstIssue, quote, StateError } from '../errors.js';
import { booleanSpec, floatSpec, integerSpec } from './numeric.js';
import { type TypeSpec, VARIABLE_TYPES } from './spec.js';
import { choiceSpec, moduleSpec, stringSpec } from './text.js';
import { embeddingSpec, tensorSpec } from './vector.js';

export type { NumericConstraints } from './numeric.js';
export * from './spec.js';
export type { StringConstraints } from './text.js';
export { graphemeLength } from './text.js';
export type { EmbeddingConstraints, TensorConstraints } from './vector.js';

const SPECS: ReadonlyMap<string, TypeSpec> = new Map<string, TypeSpec>([
  ['float', floatSpec as TypeSpec],
  ['integer', integerSpec as TypeSpec],
  ['boolean', booleanSpec as TypeSpec],
  ['string', stringSpec as TypeSpec],
  ['choice', choiceSpec as TypeSpec],
  ['module', moduleSpec as TypeSpec],
  ['embedding', embeddingSpec as TypeSpec],
  ['tensor', tensorSpec as TypeSpec],
]);

/** The spec of `type`, or `unknown_type`. */
export function specOf(type: unknown, name: string): TypeSpec {
  const spec = typeof type === 'string' ? SPECS.get(type) : undefined;
  if (spec === undefined) {
    throw new StateError(
      'unknown_type',
      `Variable ${quote(name)}: unknown type ${typeof type === 'string' ? quote(type) : typeof type} (expected one of ${VARIABLE_TYPES.join(', ')})`,
      { variable: name, rule: 'type' },
    );
  }
  return spec;
}

export interface ParsedConstraints {
  /** A frozen copy of the constraints as given: never aliased with the caller's object. */
  readonly constraints: unknown;
  readonly rules: unknown;
}

/** Validates constraints for a type (unknown keys, wrong shapes, crossed bounds) and compiles them. */
export function parseConstraints(spec: TypeSpec, raw: unknown, name: string): ParsedConstraints {
  const result = spec.constraintSchema.safeParse(raw ?? {});
  if (!result.success) {
    const { path, message } = firstIssue(result.error);
    throw new StateError(
      'invalid_argument',
      `Variable ${quote(name)}: invalid ${spec.type} constraint ${path || 'constraints'}: ${message}`,
      { variable: name, rule: 'constraints' },
    );
  }
  const constraints = Object.freeze(spec.copyConstraints(canonical(result.data)));
  const rules = spec.compile(constraints);
  const crossed = spec.crossCheck(constraints, rules);
  if (crossed !== undefined) {
    throw new StateError('invalid_argument', `Variable ${quote(name)}: invalid ${spec.type} constraints: ${crossed}`, {
      variable: name,
      rule: 'constraints',
    });
  }
  return { constraints, rules };
}

/**
 * One spelling per constraint set, so both backends and an export through JSON
 * agree: keys given as undefined are dropped, -0 becomes 0 (JSON cannot carry
 * -0, and as a bound or a length it means the same as 0).
 */
function canonical<T>(value: T): T {
  if (typeof value === 'number') return (value + 0) as T;
  if (Array.isArray(value)) return value.map(canonical) as T;
  if (value === null || typeof value !== 'object' || value instanceof RegExp) return value;
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) out[key] = canonical(entry);
  return out as T;
}
