// Records: a JavaScript object per variable, checked by the type specs in
// src/types/ on every write. Every variable of a JsLocalState lives here, and
// the string, choice, module, embedding and tensor variables of a LocalState.

import { idOf } from '../ids.js';
import type { Metadata } from '../metadata.js';
import type { VariableValue } from '../types/index.js';
import type { Subscription } from '../watch.js';
import type { NewVariable, Storage } from './storage.js';
import { Variable } from './variable.js';

/** Records, plus the one write step a batch applies after checking every item (see store/batch.ts). */
export const records: Storage<Variable> & { apply(v: Variable, value: VariableValue, now: number): void } = {
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
  apply: (v, staged, now) => {
    v.value = staged;
    v.version++;
    // A variable's time never steps back, even past an imported time ahead of this clock.
    if (now > v.lastUpdatedAt) v.lastUpdatedAt = now;
  },
  add: (item: NewVariable, order: number) => {
    const { name, spec, constraints, rules, metadata, createdAt, value, version, lastUpdatedAt } = item;
    return new Variable(idOf(name, item.serial), name, spec, constraints, rules, metadata, createdAt, order, value, version, lastUpdatedAt);
  },
  remove: (v) => {
    v.live = false;
  },
};
