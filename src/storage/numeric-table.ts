// The numeric variables of a LocalState: float, integer and boolean values in
// the wasm table, described by nothing more than a few typed side tables and
// one slot of a JavaScript array. No JavaScript object per variable: that is
// what keeps a wasm-held variable small (see the memory benchmark).
//
// The wasm table is the authority: every write by name or in a batch is
// validated there (type, min/max, version limit), versioned and stamped, and
// the value lives in its entry. `values` caches each handle's value as a tagged
// JavaScript value, so a read is one array load and hands out a number (or
// boolean) that is already boxed: reading a double out of a Float64Array would
// allocate a fresh HeapNumber wherever the value escapes. A write only clears
// the cached value (undefined, never a value), so a write allocates nothing;
// the first read after it boxes the value once from the entry and caches it.
//
// A variable's *code* is `handle << 1 | isBoolean`: one small integer that
// says where the value is and how to hand it out.

import { versionLimit } from '../checks.js';
import { closedError, invalidArgument, quote, StateError } from '../errors.js';
import { idOf } from '../ids.js';
import { EMPTY_METADATA, type Metadata } from '../metadata.js';
import { coerce, constraintViolation, invalidValue, type TypeSpec, type VariableType, type VariableValue } from '../types/index.js';
import { type Bounds, booleanSpec, floatSpec, integerSpec, toCell } from '../types/numeric.js';
import type { Core, CoreExports } from '../wasm.js';
import type { Subscription } from '../watch.js';
import type { NewVariable, NumericCode, Storage } from './storage.js';

const INITIAL_SIDE_CAPACITY = 16;
const OPEN: Bounds = Object.freeze({ min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY });

/**
 * @internal What the table keeps current for a numeric variable that has a ref: whether it still
 * exists (cleared on delete and cleanup), and its current value, kept by every write while refs
 * exist, so that a ref's read is a field load, as a record's is. Only variables with refs have one;
 * the ref itself is the cell (NumericRef extends it).
 */
export class RefCell {
  live = true;
  /** Live and unwatched: a ref's write may go straight into the entry (one load for both checks). */
  fast = true;
  /**
   * The cached value, or undefined after a write (until the next read boxes it again). Not `value`:
   * a numeric ref is a cell, and a caller used to signals would take `ref.value` for the variable.
   */
  cached: VariableValue | undefined = undefined;
  /**
   * Reads through the ref of an in-memory store, counted here rather than on the store: the field
   * sits beside `cached`, and the store's counter cost the hot read one more dependent load (~10% of
   * a ref read in a sum). The store adds them to its totalOperations whenever the total is read
   * (Store.counters). A persisted store's refs count on the store, whose clock records journal it.
   */
  reads = 0;
}

/** Bits of `flags[handle]`: the one byte an unwatched, unreferenced write checks. */
export const WATCHED = 1;
export const HAS_REFS = 2;

/** @internal */
export class NumericTable implements Storage<NumericCode> {
  readonly core: Core;
  /** Each live handle's value as handed out, or undefined while a write has left it to box (see the file comment). */
  readonly values: Array<VariableValue | undefined> = [];
  /** Handle → serial (the `<n>` of its id); 0 for a free handle. */
  private serials = new Float64Array(INITIAL_SIDE_CAPACITY);
  /** Handle → registration order, unique per insertion and never reused; 0 for a free handle. */
  private orders = new Float64Array(INITIAL_SIDE_CAPACITY);
  private created = new Float64Array(INITIAL_SIDE_CAPACITY);
  private names: Array<string | undefined> = [];
  /**
   * Handle → id, made on first use and kept: an export or listing then hands out the same string each
   * time (V8 internalises a string once, as an object key, so a fresh one per export cost ~0.5 µs a
   * variable there). Filled only by id(): a store that never lists or exports pays nothing for it.
   */
  private ids: Array<string | undefined> = [];
  /** Handle → WATCHED | HAS_REFS bits: the only cost watching and refs add to a write. */
  flags = new Uint8Array(INITIAL_SIDE_CAPACITY);
  /** Handle → the cell its refs share (HAS_REFS set), else undefined. */
  private cells: Array<RefCell | undefined> = [];
  /** The same cells, to add up their reads without walking every handle. */
  private readonly referenced = new Set<RefCell>();
  /** Reads counted by cells that are gone (their variable deleted). */
  private droppedReads = 0;
  /** Handle → wasm type tag, mirrored so that naming a type needs no call. */
  private tags = new Uint8Array(INITIAL_SIDE_CAPACITY);
  /** Watchers of watched handles, in registration order. */
  private readonly watchers = new Map<number, Subscription[]>();
  /**
   * Handle → metadata, undefined for none (EMPTY_METADATA). An array, not a Map: a batch with
   * metadata reads and writes it for every numeric item (a Map cost ~20 ns an operation there). It
   * stays empty, costing nothing, until a variable has metadata.
   */
  private metadataByHandle: Array<Metadata | undefined> = [];
  private nextKey = 0;
  private count = 0;
  /** Entries the table holds before an insert must grow it; until then inserts need no view refresh. */
  private roomBeforeGrowth = 0;
  // One fixed call site per hot export (V8 inlines the JS-to-wasm wrapper there).
  readonly setAt: CoreExports['ls_set_at'];
  readonly statusOk: number;
  readonly integerTag: number;
  private readonly tagOf: Readonly<Record<string, number>>;
  private readonly specsByTag: ReadonlyMap<number, TypeSpec>;

  constructor(core: Core) {
    this.core = core;
    this.refreshView();
    this.setAt = core.exports.ls_set_at;
    this.statusOk = core.constants.STATUS_OK;
    const { TYPE_FLOAT, TYPE_INTEGER, TYPE_BOOLEAN } = core.constants;
    this.integerTag = TYPE_INTEGER;
    this.tagOf = { float: TYPE_FLOAT, integer: TYPE_INTEGER, boolean: TYPE_BOOLEAN };
    this.specsByTag = new Map<number, TypeSpec>([
      [TYPE_FLOAT, floatSpec as TypeSpec],
      [TYPE_INTEGER, integerSpec as TypeSpec],
      [TYPE_BOOLEAN, booleanSpec as TypeSpec],
    ]);
  }

  /** Re-creates the views if memory grew (growth detaches the old buffer). Only calls that may grow memory need it. */
  refreshView(): void {
    this.core.refresh();
    this.roomBeforeGrowth = this.core.exports.ls_entry_capacity();
  }

  // ─── Storage ─────────────────────────────────────────────────────────────

  value(code: NumericCode): VariableValue {
    const value = this.values[code >>> 1];
    return value !== undefined ? value : this.box(code);
  }

  /** Boxes a handle's value from its entry, once after each write, and caches it for the reads that follow. */
  box(code: NumericCode): VariableValue {
    const core = this.core;
    const handle = code >>> 1;
    const value = this.storedOf(code, core.f64[core.entriesBase64 + handle * core.stride + core.valueOffset] as number);
    this.cache(handle, value);
    return value;
  }

  /** After a committed write: the cached value is stale (the next read boxes the new one). */
  written(handle: number): void {
    this.cache(handle, undefined);
  }

  /** Sets what reads of `handle` return without boxing (undefined: box on the next read), for reads by name and refs alike. */
  private cache(handle: number, value: VariableValue | undefined): void {
    this.values[handle] = value;
    if (((this.flags[handle] as number) & HAS_REFS) !== 0) (this.cells[handle] as RefCell).cached = value;
  }

  version(code: NumericCode): number {
    const core = this.core;
    return core.f64[core.entriesBase64 + (code >>> 1) * core.stride + core.versionOffset] as number;
  }

  updatedAt(code: NumericCode): number {
    const core = this.core;
    return core.f64[core.entriesBase64 + (code >>> 1) * core.stride + core.updatedAtOffset] as number;
  }

  createdAt(code: NumericCode): number {
    return this.created[code >>> 1] as number;
  }

  order(code: NumericCode): number {
    return this.orders[code >>> 1] as number;
  }

  name(code: NumericCode): string {
    return this.names[code >>> 1] as string;
  }

  serial(code: NumericCode): number {
    return this.serials[code >>> 1] as number;
  }

  id(code: NumericCode): string {
    const handle = code >>> 1;
    let id = this.ids[handle];
    if (id === undefined) {
      id = idOf(this.names[handle] as string, this.serials[handle] as number);
      this.ids[handle] = id;
    }
    return id;
  }

  spec(code: NumericCode): TypeSpec {
    return this.specsByTag.get(this.tags[code >>> 1] as number) as TypeSpec;
  }

  typeOf(code: NumericCode): VariableType {
    return this.spec(code).type;
  }

  bounds(code: NumericCode): Bounds {
    const core = this.core;
    const at = core.entriesBase64 + (code >>> 1) * core.stride;
    return { min: core.f64[at + core.minOffset] as number, max: core.f64[at + core.maxOffset] as number };
  }

  /** The constraints as given: an open bound was never given (constraints must be finite). */
  constraints(code: NumericCode): Record<string, number> {
    if ((code & 1) === 1) return {};
    const { min, max } = this.bounds(code);
    const constraints: Record<string, number> = {};
    if (min !== Number.NEGATIVE_INFINITY) constraints.min = min;
    if (max !== Number.POSITIVE_INFINITY) constraints.max = max;
    return constraints;
  }

  metadata(code: NumericCode): Metadata {
    const handle = code >>> 1;
    return handle < this.metadataByHandle.length ? (this.metadataByHandle[handle] ?? EMPTY_METADATA) : EMPTY_METADATA;
  }

  setMetadata(code: NumericCode, metadata: Metadata): void {
    const handle = code >>> 1;
    if (metadata !== EMPTY_METADATA) this.metadataByHandle[handle] = metadata;
    else if (handle < this.metadataByHandle.length) this.metadataByHandle[handle] = undefined;
  }

  subscriptions(code: NumericCode): Subscription[] | undefined {
    // The flag first: an unwatched variable costs no Map lookup.
    return ((this.flags[code >>> 1] as number) & WATCHED) === 0 ? undefined : this.watchers.get(code >>> 1);
  }

  setSubscriptions(code: NumericCode, list: Subscription[] | undefined): void {
    const handle = code >>> 1;
    if (list === undefined) this.watchers.delete(handle);
    else this.watchers.set(handle, list);
    const flags = this.flags[handle] as number;
    this.flags[handle] = list === undefined ? flags & ~WATCHED : flags | WATCHED;
    const cell = this.cells[handle];
    if (cell !== undefined) cell.fast = cell.live && list === undefined;
  }

  /** Adds a variable; returns its code. May grow memory (the views are refreshed). */
  add(item: NewVariable, order: number): NumericCode {
    const core = this.core;
    const insert = core.exports.ls_insert;
    const alreadyExists = -core.constants.STATUS_ALREADY_EXISTS;
    const tag = this.tagOf[item.spec.type] as number;
    const bounds = (item.rules as Bounds | undefined) ?? OPEN;
    const cell = toCell(item.value);
    let handle: number;
    for (;;) {
      const key = this.nextKey;
      // Keys are u32 and wrap; a key still in use is skipped.
      this.nextKey = (key + 1) >>> 0;
      // Only an insert into a full table grows it (and may move entries or detach the views).
      const grows = this.count >= this.roomBeforeGrowth;
      handle = insert(key, tag, cell, bounds.min, bounds.max, item.version, item.lastUpdatedAt);
      if (grows) this.refreshView();
      if (handle !== alreadyExists) break;
    }
    if (handle < 0) throw this.statusError(-handle, `registerVariable ${quote(item.name)}`);
    if (handle >= this.serials.length) this.growSideTables(handle + 1);
    this.serials[handle] = item.serial;
    this.orders[handle] = order;
    this.created[handle] = item.createdAt;
    this.tags[handle] = tag;
    this.names[handle] = item.name;
    this.count++;
    const code = (handle << 1) | (item.spec.type === 'boolean' ? 1 : 0);
    this.values[handle] = undefined;
    // remove() dropped any metadata a reused handle had.
    if (item.metadata !== EMPTY_METADATA) this.metadataByHandle[handle] = item.metadata;
    return code;
  }

  remove(code: NumericCode): void {
    const handle = code >>> 1;
    const exports = this.core.exports;
    exports.ls_delete(exports.ls_key_at(handle));
    this.names[handle] = undefined;
    if (handle < this.ids.length) this.ids[handle] = undefined;
    this.serials[handle] = 0;
    this.orders[handle] = 0;
    this.values[handle] = undefined;
    if (handle < this.metadataByHandle.length) this.metadataByHandle[handle] = undefined;
    this.setSubscriptions(code, undefined);
    this.count--;
    const cell = this.cells[handle];
    if (cell !== undefined) {
      // Refs read the value first: clearing it sends them to the liveness check.
      cell.live = false;
      cell.fast = false;
      cell.cached = undefined;
      this.cells[handle] = undefined;
      this.droppedReads += cell.reads;
      this.referenced.delete(cell);
    }
    this.flags[handle] = 0;
  }

  // ─── the rest of the table ───────────────────────────────────────────────

  /**
   * The cell refs to `code` share: the one `make` returns when the variable has none yet, kept until
   * the variable goes. A numeric ref is its own cell (refs.ts), so a ref's read loads its own field.
   */
  cellOfRef<C extends RefCell>(code: NumericCode, make: () => C): C {
    const handle = code >>> 1;
    let cell = this.cells[handle];
    if (cell === undefined) {
      this.cells[handle] = cell = make();
      this.referenced.add(cell);
      cell.fast = ((this.flags[handle] as number) & WATCHED) === 0;
      this.flags[handle] = (this.flags[handle] as number) | HAS_REFS;
      // Boxed now, so a new ref's first read takes the hot path. Through the path for a read after a
      // write, it deoptimized the get() V8 had compiled for other refs, and reads stayed ~3× slower after
      // (bench: mixed-ref-get-float run after get-by-ref, 2.7 ns against 0.8 ns).
      cell.cached = this.value(code);
    }
    // Every cell comes from the one maker a store passes (numericRef), so this is the type it made.
    return cell as C;
  }

  /** Reads refs counted since the last call (see RefCell.reads), deleted variables' included; the counts restart at 0. */
  takeRefReads(): number {
    let reads = this.droppedReads;
    this.droppedReads = 0;
    for (const cell of this.referenced) {
      reads += cell.reads;
      cell.reads = 0;
    }
    return reads;
  }

  /** The f64 the table checks for an input: the number itself, or the coerced form of 'NaN', true, 'false', … */
  cellOf(code: NumericCode, value: unknown): number {
    if (typeof value === 'number') return value;
    // true/false to a boolean variable without the spec lookup and coercion (a batch's common case).
    if (typeof value === 'boolean' && (code & 1) === 1) return value ? 1 : 0;
    const spec = this.spec(code);
    const coerced = coerce(spec, value);
    if (coerced === undefined) throw invalidValue(this.name(code), spec, value);
    return toCell(coerced);
  }

  /** The value handed out for a cell the table accepted: booleans as booleans, an integer -0 as 0. */
  storedOf(code: NumericCode, cell: number): VariableValue {
    if ((code & 1) === 1) return cell === 1;
    return cell === 0 && this.tags[code >>> 1] === this.integerTag ? 0 : cell;
  }

  /**
   * The table's rule for `cell` (assembly/table.ts, checkValue), in TypeScript, for a batch: a status,
   * statusOk when the table would take it. Integers are safe integers, booleans 0 or 1; min/max bound
   * every finite value (NaN and ±Infinity bypass them, floats only). The differential tests hold it to
   * the wasm rule, which writes by name go through.
   */
  check(code: NumericCode, cell: number): number {
    const core = this.core;
    const constants = core.constants;
    const handle = code >>> 1;
    if ((code & 1) === 1) return cell === 0 || cell === 1 ? this.statusOk : constants.STATUS_INVALID_VALUE;
    if (this.tags[handle] === this.integerTag) {
      if (!Number.isSafeInteger(cell)) return constants.STATUS_INVALID_VALUE;
    } else if (cell - cell !== 0) {
      return this.statusOk;
    }
    const entry = core.entriesBase64 + handle * core.stride;
    if (cell < (core.f64[entry + core.minOffset] as number)) return constants.STATUS_BELOW_MIN;
    if (cell > (core.f64[entry + core.maxOffset] as number)) return constants.STATUS_ABOVE_MAX;
    return this.statusOk;
  }

  /**
   * Writes a cell that `check` accepted straight into the entry, as the table's own write does: the
   * value (an integer or boolean -0 as +0), the version plus one, the time never moved back. The
   * caller has checked the version limit. `input` is the value as the caller gave it: a number other
   * than 0 is what a read returns (a float's cell is the number itself, an integer's the same safe
   * integer), so it is kept as the read cache, already boxed. A batch is usually read back before it
   * is written again (an optimizer reads every trial), and boxing on that read cost the seeded
   * optimizer ~5% against JsLocalState, whose records keep the caller's value.
   */
  writeAt(code: NumericCode, cell: number, now: number, input: unknown): void {
    const core = this.core;
    const f64 = core.f64;
    const handle = code >>> 1;
    const entry = core.entriesBase64 + handle * core.stride;
    f64[entry + core.valueOffset] = (code & 1) === 1 || this.tags[handle] === this.integerTag ? cell + 0 : cell;
    f64[entry + core.versionOffset] = (f64[entry + core.versionOffset] as number) + 1;
    if (now > (f64[entry + core.updatedAtOffset] as number)) f64[entry + core.updatedAtOffset] = now;
    this.cache(handle, typeof input === 'number' && input !== 0 && (code & 1) === 0 ? input : undefined);
  }

  /** Turns a wasm status for a write into the error the caller sees. */
  rejection(code: NumericCode, status: number, input: unknown): StateError {
    const { STATUS_INVALID_VALUE, STATUS_BELOW_MIN, STATUS_ABOVE_MAX, STATUS_VERSION_LIMIT, STATUS_NOT_FOUND } = this.core.constants;
    const name = this.name(code);
    if (status === STATUS_INVALID_VALUE) return invalidValue(name, this.spec(code), input);
    if (status === STATUS_VERSION_LIMIT) return versionLimit(name, input);
    if (status === STATUS_BELOW_MIN || status === STATUS_ABOVE_MAX) {
      const bounds = this.bounds(code);
      const violation =
        status === STATUS_BELOW_MIN ? { rule: 'min', expected: `>= ${bounds.min}` } : { rule: 'max', expected: `<= ${bounds.max}` };
      return constraintViolation(name, violation, input);
    }
    if (status === STATUS_NOT_FOUND) return closedError();
    return this.statusError(status, `write to ${quote(name)}`);
  }

  /** The error for a wasm status that is not about a value: out of memory, or a bug. */
  statusError(status: number, what: string): StateError {
    if (status === this.core.constants.STATUS_OUT_OF_MEMORY) {
      return new StateError('out_of_memory', `${what}: the wasm table cannot grow within maxMemoryBytes`, { rule: 'maxMemoryBytes' });
    }
    return invalidArgument(`${what}: wasm status ${status}`);
  }

  /** Makes room for `additional` inserts, or throws out_of_memory. May grow memory. */
  reserve(additional: number, what: string): void {
    const status = this.core.exports.ls_reserve(additional);
    this.refreshView();
    if (status !== this.statusOk) throw this.statusError(status, what);
  }

  /** Forgets every variable: refs then read as deleted. The wasm memory goes with the store. */
  clear(): void {
    this.serials.fill(0);
    this.orders.fill(0);
    this.flags.fill(0);
    this.watchers.clear();
    this.metadataByHandle = [];
    this.names = [];
    this.ids = [];
    this.values.length = 0;
    for (const cell of this.referenced) {
      cell.live = false;
      cell.fast = false;
      cell.cached = undefined;
      this.droppedReads += cell.reads;
    }
    this.referenced.clear();
    this.cells = [];
  }

  private growSideTables(needed: number): void {
    let size = this.serials.length;
    while (size < needed) size *= 2;
    this.serials = grown(this.serials, size);
    this.orders = grown(this.orders, size);
    this.created = grown(this.created, size);
    this.flags = grown(this.flags, size);
    this.tags = grown(this.tags, size);
  }
}

/** A copy of a side table, `size` long (the new tail zeroed: a free handle). */
function grown<T extends Float64Array | Uint8Array>(old: T, size: number): T {
  const next = new (old.constructor as new (length: number) => T)(size);
  next.set(old);
  return next;
}
