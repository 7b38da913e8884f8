// Refs: a handle to one variable for hot loops, resolved once.
//
// A numeric ref reads the boxed value it caches as the variable's cell, kept by
// the table (no allocation when the value escapes; a write clears it and the
// next read boxes once) and writes straight into the wasm entry when it can: a
// number, no metadata, nobody watching. A persisted store's journal gets the
// write from the ref itself, as one small record, so that path stays fast with
// persistence on (see bench/persist.ts). The checks it makes there are the
// table's own rules, restated per type in set() (min/max on finite floats, safe
// integers, 0/1 for booleans, the version limit); anything else goes through
// the store's write path, where wasm validates. The differential tests hold
// the two paths to each other. The cell's liveness is cleared on delete and
// cleanup.

import { coarseNow } from '../clock.js';
import type { StateError } from '../errors.js';
import { idOf } from '../ids.js';
import type { VariableRef } from '../provider.js';
import { type NumericTable, RefCell } from '../storage/numeric-table.js';
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

/** Which rule a numeric ref's fast write applies. */
const FLOAT = 0;
const INTEGER = 1;
const BOOLEAN = 2;

/**
 * One class for the three numeric types, the type's rule chosen by `kind`: every ref's get and set
 * then run on one hidden class, so their property loads stay monomorphic (a class per type made them
 * polymorphic as soon as a program held refs of two types, ~2 ns a read here).
 *
 * The ref is its variable's cell, so `ref(name)` hands out one ref per variable, and a read loads the
 * value from the ref itself: with a separate cell object it cost one more dependent load and map
 * check per read (~20% of a ref read in a sum over 64 refs).
 */
class NumericRef<T extends number | boolean> extends RefCell implements VariableRef<T> {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  private readonly handle: number;
  private readonly values: Array<VariableValue | undefined>;
  private readonly core: Core;
  /** Offsets of the entry's fields from the entries base, in f64 slots (the layout read from the module). */
  private readonly valueAt: number;
  private readonly minAt: number;
  private readonly maxAt: number;
  private readonly versionAt: number;
  private readonly updatedAt: number;
  /** Registration order: how the journal names the variable. */
  private readonly order: number;
  /** The store's journal, if persisted (a store's journal is fixed before any ref exists). */
  private readonly journal: Journal | undefined;
  private readonly kind: number;

  constructor(
    private readonly host: RefHost,
    private readonly table: NumericTable,
    private readonly code: NumericCode,
  ) {
    super();
    this.name = table.name(code);
    this.id = idOf(this.name, table.serial(code));
    const type = table.typeOf(code);
    this.type = type;
    this.kind = type === 'float' ? FLOAT : type === 'integer' ? INTEGER : BOOLEAN;
    this.handle = code >>> 1;
    this.values = table.values;
    const core = table.core;
    this.core = core;
    const entry = this.handle * core.stride;
    this.valueAt = entry + core.valueOffset;
    this.minAt = entry + core.minOffset;
    this.maxAt = entry + core.maxOffset;
    this.versionAt = entry + core.versionOffset;
    this.updatedAt = entry + core.updatedAtOffset;
    this.order = table.order(code);
    this.journal = host.journal;
  }

  get version(): number {
    if (!this.live) throw this.stale();
    return this.table.version(this.code);
  }

  get(): T {
    // The hot read: the cached value (undefined after a write, or once the variable is gone).
    const value = this.cached;
    if (value === undefined) return this.load();
    // A persisted store journals its count with each clock reading: count there, so a crash loses no
    // more reads than before; in memory, beside the value (see RefCell.reads).
    if (this.journal === undefined) this.reads++;
    else this.host.totalOperations++;
    return value as T;
  }

  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    if (typeof value === 'number' && metadata === undefined) {
      const kind = this.kind;
      if (kind === FLOAT) {
        // min/max apply to finite values only: NaN and ±Infinity bypass them (value - value is NaN for those).
        if ((value - value !== 0 || this.inBounds(value)) && this.commit(value)) return;
      } else if (kind === INTEGER) {
        // A safe integer within bounds; an integer has no -0.
        if (Number.isSafeInteger(value) && this.inBounds(value) && this.commit(value + 0)) return;
      } else if ((value === 1 || value === 0) && this.commit(value === 1 ? 1 : 0)) {
        // 1 and 0 (and -0) as numbers; true, false and the strings go the store's way.
        return;
      }
    }
    // Everything else, and refusals: the store's path, which reports exactly as a write by name.
    if (!this.live) throw this.stale();
    this.host.writeNumeric(this.code, value, metadata);
  }

  /**
   * The fast write, once the type's own rule has accepted `stored` (the f64 the entry holds): straight
   * into the entry when nobody watches and the store is writable. Returns false when the store's path
   * must take it (it also reports a gone variable, a version at its limit, and a read-only store).
   */
  private commit(stored: number): boolean {
    const core = this.core;
    const f64 = core.f64;
    const base = core.entriesBase64;
    const version = f64[base + this.versionAt] as number;
    const journal = this.journal;
    if (
      // Gone or watched: the store's path reports or delivers.
      !this.fast ||
      version >= MAX_VERSION ||
      // A read-only store (a failed write or fsync): the store's path throws io_error.
      (journal !== undefined && journal.failure !== undefined)
    ) {
      return false;
    }
    f64[base + this.valueAt] = stored;
    f64[base + this.versionAt] = version + 1;
    // A variable's time never steps back, even past an imported time ahead of this clock.
    const now = coarseNow();
    if (now > (f64[base + this.updatedAt] as number)) f64[base + this.updatedAt] = now;
    // Nothing is boxed on a write: the next read boxes the value once.
    this.values[this.handle] = undefined;
    this.cached = undefined;
    const host = this.host;
    host.totalOperations++;
    host.totalUpdates++;
    // Replay stamps with the same rule, so the journal takes the clock's reading.
    if (journal !== undefined) journal.numeric(this.order, stored, now);
    return true;
  }

  /** After a write the value is boxed once from the entry (and cached); a gone variable throws. */
  private load(): T {
    if (!this.live) throw this.stale();
    this.host.totalOperations++;
    return this.table.box(this.code) as T;
  }

  private stale(): StateError {
    return this.host.staleRef(this.name, this.id);
  }

  /** Whether a finite `value` lies within the entry's bounds. */
  private inBounds(value: number): boolean {
    const f64 = this.core.f64;
    const base = this.core.entriesBase64;
    return value >= (f64[base + this.minAt] as number) && value <= (f64[base + this.maxAt] as number);
  }
}

/** @internal The ref to a numeric variable: made on the first ref() to it, the same one after. */
export function numericRef(host: RefHost, table: NumericTable, code: NumericCode): VariableRef {
  return table.cellOfRef(code, () => new NumericRef(host, table, code)) as VariableRef;
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
