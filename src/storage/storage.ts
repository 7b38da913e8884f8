// Where a variable lives, behind one narrow interface. A store resolves an
// identifier to a Target and asks that target's storage; it never needs to
// know how a kind keeps its fields. Two kinds live in process:
//   - records (records.ts): a JavaScript object per variable, every variable
//     of a JsLocalState and the string-like and vector ones of a LocalState;
//   - the wasm table (numeric-table.ts): the float, integer and boolean
//     variables of a LocalState, each a small integer code, no object.
// A Target is one or the other; `typeof target === 'number'` tells which.

import type { Metadata } from '../metadata.js';
import type { TypeSpec, VariableValue } from '../types/index.js';
import type { Subscription } from '../watch.js';
import type { Variable } from './variable.js';

/** A numeric variable in the wasm table: `handle << 1 | isBoolean` (see numeric-table.ts). */
export type NumericCode = number;

/** A resolved variable. */
export type Target = Variable | NumericCode;

/** A validated variable about to be added, from registration or import. */
export interface NewVariable {
  readonly serial: number;
  readonly name: string;
  readonly spec: TypeSpec;
  /** Frozen public constraints, as given. */
  readonly constraints: unknown;
  /** Compiled constraints. */
  readonly rules: unknown;
  readonly metadata: Metadata;
  readonly value: VariableValue;
  readonly version: number;
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

/** What the store reads and writes through, for one kind of target. */
export interface Storage<T extends Target> {
  value(target: T): VariableValue;
  version(target: T): number;
  updatedAt(target: T): number;
  createdAt(target: T): number;
  /** Registration order within the store: unique per insertion, never reused. */
  order(target: T): number;
  name(target: T): string;
  id(target: T): string;
  spec(target: T): TypeSpec;
  /** A copy of the public constraints, safe to hand out. */
  constraints(target: T): Record<string, unknown>;
  metadata(target: T): Metadata;
  setMetadata(target: T, metadata: Metadata): void;
  /** Watchers of the target, in registration order; undefined while nobody watches. */
  subscriptions(target: T): Subscription[] | undefined;
  setSubscriptions(target: T, list: Subscription[] | undefined): void;
  /** Adds a validated variable at registration order `order`; may throw out_of_memory. */
  add(item: NewVariable, order: number): T;
  /** Forgets a variable; refs to it read as deleted from now on. */
  remove(target: T): void;
}
