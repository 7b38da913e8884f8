// A variable kept as a JavaScript record: every variable of a JsLocalState,
// and the string, choice, module, embedding and tensor variables of a
// LocalState (its numeric ones live in the wasm table; see numeric-table.ts).

import type { Metadata } from '../metadata.js';
import type { TypeSpec, VariableValue } from '../types/index.js';
import type { Subscription } from '../watch.js';

export class Variable {
  /** False once deleted or once the store is cleaned up: refs to it then fail. */
  live = true;
  /** Watchers of this variable, in registration order; undefined while nobody watches (the write path checks only that). */
  subscriptions: Subscription[] | undefined = undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly spec: TypeSpec,
    /** Frozen public constraints, as given. */
    readonly constraints: unknown,
    /** Compiled constraints used on every write. */
    readonly rules: unknown,
    public metadata: Metadata,
    readonly createdAt: number,
    /** Registration order within the store. */
    readonly order: number,
    public value: VariableValue,
    public version: number,
    public lastUpdatedAt: number,
  ) {}
}
