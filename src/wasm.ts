// The one file that knows the wasm ABI: it types every export, compiles the
// module once per process, instantiates one table per store, and re-creates
// the typed-array view whenever a call that may grow memory has grown it.
// Constants come from the module's exported globals (defined in assembly/),
// never retyped here.

import { readFile } from 'node:fs/promises';

/** Exports of `core.wasm`; see assembly/ABI.md. Handles and statuses are i32. */
export interface CoreExports {
  readonly memory: { readonly buffer: ArrayBuffer };
  ls_init(capacity: number, maxPages: number): number;
  ls_reserve(additional: number): number;
  ls_insert(key: number, type: number, value: number, min: number, max: number, version: number, now: number): number;
  ls_find(key: number): number;
  ls_get(key: number): number;
  ls_set(key: number, value: number, now: number): number;
  ls_set_at(handle: number, value: number, now: number): number;
  ls_check_at(handle: number, value: number): number;
  ls_batch_area(count: number): number;
  ls_set_batch(area: number, count: number, now: number, apply: number): number;
  ls_delete(key: number): number;
  ls_next(from: number): number;
  ls_value_at(handle: number): number;
  ls_min_at(handle: number): number;
  ls_max_at(handle: number): number;
  ls_version_at(handle: number): number;
  ls_updated_at(handle: number): number;
  ls_key_at(handle: number): number;
  ls_type_at(handle: number): number;
  ls_count(): number;
  ls_capacity(): number;
  ls_entry_capacity(): number;
  ls_entries_base(): number;
  ls_rehash_count(): number;
}

/** Names of the constant globals the module exports (prefix `ls_`). u32 values (MAGIC, HASH_MULTIPLIER) read back through i32: use `>>> 0`. */
export const CONSTANT_NAMES = [
  'STATUS_OK',
  'STATUS_NOT_FOUND',
  'STATUS_ALREADY_EXISTS',
  'STATUS_INVALID_VALUE',
  'STATUS_BELOW_MIN',
  'STATUS_ABOVE_MAX',
  'STATUS_OUT_OF_MEMORY',
  'STATUS_INVALID_ARGUMENT',
  'STATUS_VERSION_LIMIT',
  'TYPE_FREE',
  'TYPE_FLOAT',
  'TYPE_INTEGER',
  'TYPE_BOOLEAN',
  'LAYOUT_VERSION',
  'HEADER_BASE',
  'HEADER_SIZE',
  'INDEX_SLOT_SIZE',
  'ENTRY_SIZE',
  'ENTRY_VALUE',
  'ENTRY_MIN',
  'ENTRY_MAX',
  'ENTRY_VERSION',
  'ENTRY_UPDATED_AT',
  'ENTRY_KEY',
  'ENTRY_TYPE',
  'MIN_INDEX_CAPACITY',
  'MAX_INDEX_CAPACITY',
  'PAGE_SIZE',
  'MAGIC',
  'HASH_MULTIPLIER',
  'HEADER_MAGIC',
  'HEADER_LAYOUT',
  'HEADER_INDEX_CAPACITY',
  'HEADER_COUNT',
  'HEADER_ENTRY_CAPACITY',
  'HEADER_HIGH_WATER',
  'HEADER_FREE_HEAD',
  'HEADER_MAX_PAGES',
  'HEADER_ENTRIES_BASE',
  'HEADER_REHASHES',
  'INDEX_SLOT_KEY',
  'INDEX_SLOT_HANDLE',
  'BATCH_ITEM_SIZE',
  'BATCH_VALUE',
  'BATCH_VERSION',
  'BATCH_HANDLE',
  'BATCH_STATUS',
  'MAX_BATCH_ITEMS',
  'BATCH_BASE',
  'BATCH_AREA_ITEMS',
  'INDEX_BASE',
] as const;

export type ConstantName = (typeof CONSTANT_NAMES)[number];
export type CoreConstants = Readonly<Record<ConstantName, number>>;

/** Where the release module sits, next to the built JavaScript. */
export const CORE_WASM_URL = new URL('./core.wasm', import.meta.url);

let compiled: Promise<WebAssembly.Module> | undefined;

/** @internal Compiles core.wasm once per process; every store instantiates the cached module. */
export function compileCore(): Promise<WebAssembly.Module> {
  compiled ??= readFile(CORE_WASM_URL).then((bytes) => WebAssembly.compile(bytes));
  // A failed read must not poison the cache for the next attempt.
  compiled.catch(() => {
    compiled = undefined;
  });
  return compiled;
}

/** @internal */
export function readConstants(instance: WebAssembly.Instance): CoreConstants {
  const constants = {} as Record<ConstantName, number>;
  for (const name of CONSTANT_NAMES) {
    const global = instance.exports[`ls_${name}`];
    if (!(global instanceof WebAssembly.Global)) throw new Error(`core.wasm does not export ls_${name}`);
    constants[name] = global.value as number;
  }
  return Object.freeze(constants);
}

/**
 * @internal One wasm table: the exports, its constants, and a Float64Array view of its
 * memory. `f64` is replaced after growth; read it through this object, never
 * keep it across a call that may grow memory (init, reserve, insert).
 */
export class Core {
  readonly exports: CoreExports;
  readonly constants: CoreConstants;
  /** f64 slots per entry: handle h's field at byte offset F is f64[entriesBase/8 + h*stride + F/8]. */
  readonly stride: number;
  readonly valueOffset: number;
  readonly versionOffset: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  readonly updatedAtOffset: number;
  f64: Float64Array;
  /** The same memory as i32s, for batch items (handle, status). */
  i32: Int32Array;
  /** entriesBase / 8, refreshed with the view. */
  entriesBase64 = 0;

  constructor(instance: WebAssembly.Instance) {
    this.exports = instance.exports as unknown as CoreExports;
    this.constants = readConstants(instance);
    const { ENTRY_SIZE, ENTRY_VALUE, ENTRY_VERSION, ENTRY_UPDATED_AT, ENTRY_MIN, ENTRY_MAX } = this.constants;
    this.stride = ENTRY_SIZE / 8;
    this.valueOffset = ENTRY_VALUE / 8;
    this.versionOffset = ENTRY_VERSION / 8;
    this.minOffset = ENTRY_MIN / 8;
    this.maxOffset = ENTRY_MAX / 8;
    this.updatedAtOffset = ENTRY_UPDATED_AT / 8;
    this.f64 = new Float64Array(this.exports.memory.buffer);
    this.i32 = new Int32Array(this.exports.memory.buffer);
  }

  /** Re-creates the views if memory grew (growth detaches the old buffer) and re-reads entriesBase. */
  refresh(): void {
    const buffer = this.exports.memory.buffer;
    if (this.f64.buffer !== buffer) {
      this.f64 = new Float64Array(buffer);
      this.i32 = new Int32Array(buffer);
    }
    this.entriesBase64 = this.exports.ls_entries_base() / 8;
  }

  /** Bytes of linear memory in use by this instance. */
  memoryBytes(): number {
    return this.exports.memory.buffer.byteLength;
  }
}

/** @internal Instantiates a fresh table. The module imports nothing, so the import object is empty. */
export async function instantiateCore(): Promise<Core> {
  const module = await compileCore();
  const instance = await WebAssembly.instantiate(module, {});
  return new Core(instance);
}
