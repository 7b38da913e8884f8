// Limits every kind of storage enforces alike.

import type { StateError } from '../errors.js';
import { constraintViolation } from '../types/index.js';

/** A version must stay an exact integer: at 2^53 - 1 the variable takes no more writes. */
export function versionLimit(name: string, input: unknown): StateError {
  return constraintViolation(name, { rule: 'version', expected: `version is at its limit ${Number.MAX_SAFE_INTEGER}` }, input);
}
