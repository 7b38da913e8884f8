// Records: a JavaScript object per variable, checked by the type specs in
// src/types/ on every write. Every variable of a JsLocalState lives here, and
// the string, choice, module, embedding and tensor variables of a LocalState.

import { checkWrite } from '../checks.js';
import { idOf } from '../ids.js';
import type { Metadata } from '../metadata.js';
import type { Subscription } from '../watch.js';
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
  stage: (v, value) => checkWrite(v, value),
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
