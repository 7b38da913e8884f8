// The JavaScript-side record of one variable, shared by both backends.

import type { Metadata } from './metadata.js';
import type { TypeSpec, VariableType, VariableValue } from './types/index.js';

/** Handle of a variable whose value lives in JavaScript, not in the wasm table. */
export const NO_HANDLE = -1;
/** Handle of a deleted (or closed) variable: refs to it fail. */
export const DEAD_HANDLE = -2;

/** How a value is kept: drives the one branch on the get path. */
export const Cell = {
  /** Held in JavaScript (`value`). */
  Js: 0,
  /** An f64 in the wasm table, handed out as a number. */
  Number: 1,
  /** 0/1 in the wasm table, handed out as a boolean. */
  Boolean: 2,
} as const;
export type Cell = (typeof Cell)[keyof typeof Cell];

export class Variable {
  /** Current value, version and update time for values held in JavaScript; unused for wasm cells. */
  value: VariableValue;
  version: number;
  lastUpdatedAt: number;

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
    readonly cell: Cell,
    /** Slot in the wasm table (>= 0), NO_HANDLE, or DEAD_HANDLE once deleted. */
    public handle: number,
    /** Key of the wasm entry (u32); 0 for JavaScript-held values. */
    readonly key: number,
    value: VariableValue,
    version: number,
    lastUpdatedAt: number,
  ) {
    this.value = value;
    this.version = version;
    this.lastUpdatedAt = lastUpdatedAt;
  }

  get type(): VariableType {
    return this.spec.type;
  }

  get live(): boolean {
    return this.handle !== DEAD_HANDLE;
  }
}
