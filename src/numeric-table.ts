// The numeric variables of a LocalState: float, integer and boolean values in
// the wasm table, described by nothing more than a name → code entry in a Map
// and a few typed side tables. No JavaScript object per variable: that is
// what makes a wasm-held variable cheap in memory and a read one Map lookup
// plus one Float64Array load.
//
// A variable's *code* is `handle << 1 | isBoolean`: one small integer that
// says where the value is and how to hand it out.

import { idOf, parseId } from './ids.js';
import { EMPTY_METADATA, type Metadata } from './metadata.js';
import type { TypeSpec, VariableType, VariableValue } from './types/index.js';
import type { Bounds } from './types/numeric.js';
import { booleanSpec, floatSpec, integerSpec } from './types/numeric.js';
import type { Core, CoreExports } from './wasm.js';
import type { Subscription } from './watch.js';

const isBooleanCode = (code: number): boolean => (code & 1) === 1;

/** @internal One new numeric variable, as registration or import describes it. */
export interface NumericEntry {
  readonly name: string;
  readonly spec: TypeSpec;
  readonly cell: number;
  readonly bounds: Bounds;
  readonly version: number;
  readonly createdAt: number;
  readonly updatedAt: number;
  readonly serial: number;
  readonly order: number;
  readonly metadata: Metadata;
}

const INITIAL_SIDE_CAPACITY = 16;

/** @internal */
export class NumericTable {
  readonly core: Core;
  /**
   * The hot read path's state, copied out of `core` so that a read is one load of `f64`, one of
   * `valueBase` and the element: entry h's value is f64[valueBase + h * stride]. Re-read by
   * `refreshView()` after every call that may grow memory.
   */
  f64: Float64Array;
  valueBase = 0;
  readonly stride: number;
  /** Entries the table holds before an insert must grow it; until then inserts need no view refresh. */
  private roomBeforeGrowth = 0;
  /** Name → code of every live numeric variable, in registration order. */
  readonly byName = new Map<string, number>();
  /** Handle → serial (the `<n>` of its id); 0 for a free handle. */
  private serials = new Float64Array(INITIAL_SIDE_CAPACITY);
  /** Handle → registration order, unique per insertion and never reused; 0 for a free handle. Refs compare against it. */
  orders = new Float64Array(INITIAL_SIDE_CAPACITY);
  private created = new Float64Array(INITIAL_SIDE_CAPACITY);
  private names: Array<string | undefined> = [];
  /** Handle → 1 while someone watches it: the only cost watching adds to an unwatched write. */
  watched = new Uint8Array(INITIAL_SIDE_CAPACITY);
  /** Watchers of watched handles, in registration order. */
  readonly subscriptions = new Map<number, Subscription[]>();
  /** Only variables with metadata have an entry: most numeric variables have none. */
  private readonly metadataByHandle = new Map<number, Metadata>();
  private nextKey = 0;
  // One fixed call site per hot export (V8 inlines the JS-to-wasm wrapper there).
  readonly setAt: CoreExports['ls_set_at'];
  readonly checkAt: CoreExports['ls_check_at'];
  readonly statusOk: number;
  private readonly tagOf: Readonly<Record<string, number>>;
  /** Handle → wasm type tag, mirrored so that naming a type needs no call. */
  private tags = new Uint8Array(INITIAL_SIDE_CAPACITY);
  private readonly specsByTag: ReadonlyMap<number, TypeSpec>;

  constructor(core: Core) {
    this.core = core;
    this.f64 = core.f64;
    this.stride = core.stride;
    this.refreshView();
    this.setAt = core.exports.ls_set_at;
    this.checkAt = core.exports.ls_check_at;
    this.statusOk = core.constants.STATUS_OK;
    const { TYPE_FLOAT, TYPE_INTEGER, TYPE_BOOLEAN } = core.constants;
    this.tagOf = { float: TYPE_FLOAT, integer: TYPE_INTEGER, boolean: TYPE_BOOLEAN };
    this.specsByTag = new Map<number, TypeSpec>([
      [TYPE_FLOAT, floatSpec as TypeSpec],
      [TYPE_INTEGER, integerSpec as TypeSpec],
      [TYPE_BOOLEAN, booleanSpec as TypeSpec],
    ]);
  }

  /** The value of a live code: a Float64Array load. */
  read(code: number): VariableValue {
    const cell = this.f64[this.valueBase + (code >>> 1) * this.stride] as number;
    return (code & 1) === 1 ? cell === 1 : cell;
  }

  /** Re-creates the view if memory grew (growth detaches the old buffer) and re-reads where entries start. */
  refreshView(): void {
    const core = this.core;
    core.refresh();
    this.f64 = core.f64;
    this.valueBase = core.entriesBase64 + core.valueOffset;
    this.roomBeforeGrowth = core.exports.ls_entry_capacity();
  }

  version(code: number): number {
    const core = this.core;
    return core.f64[core.entriesBase64 + (code >>> 1) * core.stride + core.versionOffset] as number;
  }

  updatedAt(code: number): number {
    const core = this.core;
    return core.f64[core.entriesBase64 + (code >>> 1) * core.stride + core.updatedAtOffset] as number;
  }

  /** The code of the live variable whose id is `id`, if any. Ids are not stored: they are parsed. */
  findId(id: string): number | undefined {
    const parsed = parseId(id);
    if (parsed === undefined) return undefined;
    const code = this.byName.get(parsed.name);
    return code !== undefined && this.serials[code >>> 1] === parsed.serial ? code : undefined;
  }

  /**
   * Whether `code` still holds the insertion whose order was `order`. Serials cannot tell: a deleted
   * variable re-imported under the same id gets the same serial, and maybe the same handle.
   */
  isLive(code: number, order: number): boolean {
    return this.orders[code >>> 1] === order;
  }

  name(code: number): string {
    return this.names[code >>> 1] as string;
  }

  serial(code: number): number {
    return this.serials[code >>> 1] as number;
  }

  id(code: number): string {
    return idOf(this.name(code), this.serial(code));
  }

  order(code: number): number {
    return this.orders[code >>> 1] as number;
  }

  createdAt(code: number): number {
    return this.created[code >>> 1] as number;
  }

  spec(code: number): TypeSpec {
    return this.specsByTag.get(this.tags[code >>> 1] as number) as TypeSpec;
  }

  bounds(code: number): Bounds {
    const core = this.core;
    const at = core.entriesBase64 + (code >>> 1) * core.stride;
    return { min: core.f64[at + core.minOffset] as number, max: core.f64[at + core.maxOffset] as number };
  }

  /** The constraints as given: an open bound was never given (constraints must be finite). */
  constraints(code: number): Record<string, number> {
    if (isBooleanCode(code)) return {};
    const { min, max } = this.bounds(code);
    const constraints: Record<string, number> = {};
    if (min !== Number.NEGATIVE_INFINITY) constraints.min = min;
    if (max !== Number.POSITIVE_INFINITY) constraints.max = max;
    return constraints;
  }

  metadata(code: number): Metadata {
    return this.metadataByHandle.get(code >>> 1) ?? EMPTY_METADATA;
  }

  setMetadata(code: number, metadata: Metadata): void {
    if (metadata === EMPTY_METADATA) this.metadataByHandle.delete(code >>> 1);
    else this.metadataByHandle.set(code >>> 1, metadata);
  }

  /** Adds a variable; returns its code, or a negated wasm status. May grow memory (the view is refreshed). */
  insert(entry: NumericEntry): number {
    const core = this.core;
    const insert = core.exports.ls_insert;
    const alreadyExists = -core.constants.STATUS_ALREADY_EXISTS;
    const tag = this.tagOf[entry.spec.type] as number;
    let handle: number;
    for (;;) {
      const key = this.nextKey;
      // Keys are u32 and wrap; a key still in use is skipped.
      this.nextKey = (key + 1) >>> 0;
      // Only an insert into a full table grows it (and may move entries or detach the view).
      const grows = this.byName.size >= this.roomBeforeGrowth;
      handle = insert(key, tag, entry.cell, entry.bounds.min, entry.bounds.max, entry.version, entry.updatedAt);
      if (grows) this.refreshView();
      if (handle !== alreadyExists) break;
    }
    if (handle < 0) return handle;
    if (handle >= this.serials.length) this.growSideTables(handle + 1);
    this.serials[handle] = entry.serial;
    this.orders[handle] = entry.order;
    this.created[handle] = entry.createdAt;
    this.tags[handle] = tag;
    this.names[handle] = entry.name;
    const code = (handle << 1) | (entry.spec.type === 'boolean' ? 1 : 0);
    this.setMetadata(code, entry.metadata);
    this.byName.set(entry.name, code);
    return code;
  }

  remove(code: number): void {
    const handle = code >>> 1;
    const exports = this.core.exports;
    exports.ls_delete(exports.ls_key_at(handle));
    this.byName.delete(this.names[handle] as string);
    this.names[handle] = undefined;
    this.serials[handle] = 0;
    this.orders[handle] = 0;
    this.metadataByHandle.delete(handle);
    this.watched[handle] = 0;
    this.subscriptions.delete(handle);
  }

  /** Makes room for `additional` inserts; returns a wasm status. May grow memory. */
  reserve(additional: number): number {
    const status = this.core.exports.ls_reserve(additional);
    this.refreshView();
    return status;
  }

  /** Forgets every variable: refs then read as deleted. The wasm memory goes with the store. */
  clear(): void {
    this.serials.fill(0);
    this.orders.fill(0);
    this.watched.fill(0);
    this.subscriptions.clear();
    this.byName.clear();
    this.metadataByHandle.clear();
    this.names = [];
  }

  typeOf(code: number): VariableType {
    return this.spec(code).type;
  }

  private growSideTables(needed: number): void {
    let size = this.serials.length;
    while (size < needed) size *= 2;
    this.serials = grown(this.serials, size);
    this.orders = grown(this.orders, size);
    this.created = grown(this.created, size);
    this.watched = grown(this.watched, size);
    this.tags = grown(this.tags, size);
  }
}

/** A copy of a side table, `size` long (the new tail zeroed: a free handle). */
function grown<T extends Float64Array | Uint8Array>(old: T, size: number): T {
  const next = new (old.constructor as new (length: number) => T)(size);
  next.set(old);
  return next;
}
