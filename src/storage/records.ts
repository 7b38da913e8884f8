// Records: a JavaScript object per variable, checked by the type specs in
// src/types/ on every write. Every variable of a JsLocalState lives here, and
// the string, choice, module, embedding and tensor variables of a LocalState.

import { idOf } from '../ids.js';
import type { Metadata } from '../metadata.js';
import { constraintViolation, invalidValue } from '../types/index.js';
import { coerce, type VariableValue } from '../types/spec.js';
import type { Subscription } from '../watch.js';
import { versionLimit } from './limits.js';
import type { NewVariable, Storage } from './storage.js';
import { Variable } from './variable.js';

export const records: Storage<Variable> = {
  value: (v) => v.value,
  version: (v) => v.version,
  updatedAt: (v) => v.lastUpdatedAt,
  createdAt: (v) => v.createdAt,
  order: (v) => v.order,
  name: (v) => v.name,
  id: (v) => v.id,
  spec: (v) => v.spec,
  constraints: (v) => v.spec.copyConstraints(v.constraints) as Record<string, unknown>,
  metadata: (v) => v.metadata,
  setMetadata: (v, metadata: Metadata) => {
    v.metadata = metadata;
  },
  subscriptions: (v) => v.subscriptions,
  setSubscriptions: (v, list: Subscription[] | undefined) => {
    v.subscriptions = list;
  },
  stage: (v, value) => storedValue(v, value),
  apply: (v, staged, now) => {
    v.value = staged;
    v.version++;
    v.lastUpdatedAt = now;
  },
  add: (item: NewVariable, order: number) => {
    const { name, spec, constraints, rules, metadata, createdAt, value, version, lastUpdatedAt } = item;
    return new Variable(idOf(name, item.serial), name, spec, constraints, rules, metadata, createdAt, order, value, version, lastUpdatedAt);
  },
  remove: (v) => {
    v.live = false;
  },
};

/** The stored form of a record's value, checked against type, constraints and the version limit. */
export function storedValue(variable: Variable, value: unknown): VariableValue {
  const stored = coerce(variable.spec, value);
  if (stored === undefined) throw invalidValue(variable.name, variable.spec, value);
  const violation = variable.spec.violation(stored, variable.rules);
  if (violation !== undefined) throw constraintViolation(variable.name, violation, value);
  if (variable.version >= Number.MAX_SAFE_INTEGER) throw versionLimit(variable.name, value);
  return stored;
}
