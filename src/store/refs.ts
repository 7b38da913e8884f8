// Refs: a handle to one variable for hot loops, resolved once.
//
// A numeric ref reads the table's value mirror (no allocation when the value
// escapes) and writes straight into the wasm entry when it can: a number, no
// metadata, nobody watching. A persisted store's journal gets the write from
// the ref itself, as one small record, so that path stays fast with
// persistence on (see bench/persist.ts). The checks it makes there are the
// table's own rules, restated per type below (min/max on finite floats, safe
// integers, 0/1 for booleans, the version limit); anything else goes through
// the store's write path, where wasm validates. The differential tests hold
// the two paths to each other. Liveness is a flag shared by every ref to the
// variable (a RefCell), cleared on delete and cleanup.

import { coarseNow } from '../clock.js';
import type { StateError } from '../errors.js';
import { idOf } from '../ids.js';
import type { VariableRef } from '../provider.js';
import type { NumericTable, RefCell } from '../storage/numeric-table.js';
import type { NumericCode } from '../storage/storage.js';
import type { Variable } from '../storage/variable.js';
import type { VariableType, VariableValue } from '../types/index.js';
import type { Core } from '../wasm.js';
import type { Journal } from './journal.js';

/** @internal What a ref needs from its store. */
export interface RefHost {
  totalOperations: number;
  totalUpdates: number;
  /** The journal of a persisted store: the fast path appends its writes to it. */
  readonly journal: Journal | undefined;
  writeNumeric(code: NumericCode, value: unknown, metadata: unknown): void;
  writeRecord(variable: Variable, value: unknown, metadata: unknown): void;
  staleRef(name: string, id: string): StateError;
}

const MAX_VERSION = Number.MAX_SAFE_INTEGER;

abstract class NumericRef<T extends number | boolean> implements VariableRef<T> {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  protected readonly handle: number;
  protected readonly values: VariableValue[];
  protected readonly core: Core;
  /** handle × stride: the entry's first f64 relative to the entries base. */
  protected readonly entry: number;
  /** Registration order: how the journal names the variable. */
  protected readonly order: number;

  constructor(
    protected readonly host: RefHost,
    protected readonly table: NumericTable,
    protected readonly code: NumericCode,
    protected readonly cell: RefCell,
  ) {
    this.name = table.name(code);
    this.id = idOf(this.name, table.serial(code));
    this.type = table.typeOf(code);
    this.handle = code >>> 1;
    this.values = table.values;
    this.core = table.core;
    this.entry = this.handle * table.core.stride;
    this.order = table.order(code);
  }

  get version(): number {
    if (!this.cell.live) throw this.stale();
    return this.table.version(this.code);
  }

  get(): T {
    if (!this.cell.live) throw this.stale();
    this.host.totalOperations++;
    return this.values[this.handle] as T;
  }

  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    if (!this.cell.live) throw this.stale();
    const host = this.host;
    const journal = host.journal;
    if (
      typeof value !== 'number' ||
      metadata !== undefined ||
      this.table.watched[this.handle] !== 0 ||
      // A read-only store (a failed write or fsync): the store's path throws io_error.
      (journal !== undefined && journal.failure !== undefined)
    ) {
      host.writeNumeric(this.code, value, metadata);
      return;
    }
    const core = this.core;
    const f64 = core.f64;
    const at = core.entriesBase64 + this.entry;
    const version = f64[at + core.versionOffset] as number;
    const stored = this.accept(value, f64, at);
    if (stored === undefined || version >= MAX_VERSION) {
      // Refused: the store's path reports it exactly as a write by name would.
      this.host.writeNumeric(this.code, value, metadata);
      return;
    }
    const cell = typeof stored === 'boolean' ? (stored ? 1 : 0) : (stored as number);
    const now = coarseNow();
    f64[at + core.valueOffset] = cell;
    f64[at + core.versionOffset] = version + 1;
    f64[at + core.updatedAtOffset] = now;
    this.values[this.handle] = stored;
    host.totalOperations++;
    host.totalUpdates++;
    if (journal !== undefined) journal.numeric(this.order, cell, now);
  }

  /** The value as stored and handed out (-0 kept by floats only) if the table's rules accept `value`, else undefined. */
  protected abstract accept(value: number, f64: Float64Array, at: number): T | undefined;

  protected stale(): StateError {
    return this.host.staleRef(this.name, this.id);
  }
}

class FloatRef extends NumericRef<number> {
  protected accept(value: number, f64: Float64Array, at: number): number | undefined {
    // min/max apply to finite values only: NaN and ±Infinity bypass them (value - value is NaN for those).
    if ((value < (f64[at + this.core.minOffset] as number) || value > (f64[at + this.core.maxOffset] as number)) && value - value === 0) {
      return undefined;
    }
    return value;
  }
}

class IntegerRef extends NumericRef<number> {
  protected accept(value: number, f64: Float64Array, at: number): number | undefined {
    if (!Number.isSafeInteger(value)) return undefined;
    if (value < (f64[at + this.core.minOffset] as number) || value > (f64[at + this.core.maxOffset] as number)) return undefined;
    return value === 0 ? 0 : value;
  }
}

class BooleanRef extends NumericRef<boolean> {
  protected accept(value: number): boolean | undefined {
    return value === 1 ? true : value === 0 ? false : undefined;
  }
}

/** @internal A ref to a numeric variable, of the class for its type. */
export function numericRef(host: RefHost, table: NumericTable, code: NumericCode): VariableRef {
  const type = table.typeOf(code);
  const Ref = type === 'float' ? FloatRef : type === 'integer' ? IntegerRef : BooleanRef;
  return new Ref(host, table, code, table.cellOfRef(code)) as VariableRef;
}

/** @internal A ref to a record: the record itself is the cell. */
export class RecordRef implements VariableRef {
  constructor(
    private readonly host: RefHost,
    private readonly variable: Variable,
  ) {}
  get id(): string {
    return this.variable.id;
  }
  get name(): string {
    return this.variable.name;
  }
  get type(): VariableType {
    return this.variable.spec.type;
  }
  get version(): number {
    if (!this.variable.live) throw this.stale();
    return this.variable.version;
  }
  get(): VariableValue {
    const variable = this.variable;
    if (!variable.live) throw this.stale();
    this.host.totalOperations++;
    return variable.value;
  }
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    if (!this.variable.live) throw this.stale();
    this.host.writeRecord(this.variable, value, metadata);
  }
  private stale(): StateError {
    return this.host.staleRef(this.variable.name, this.variable.id);
  }
}
