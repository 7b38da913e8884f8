// The exported ABI of the table (documented in ABI.md). Every export carries
// the `ls_` prefix; constants are exported as immutable globals so that hosts
// read them instead of copying numbers.

import * as table from "./table";
import { ENTRY_VALUE, ENTRY_MIN, ENTRY_MAX, ENTRY_VERSION, ENTRY_UPDATED_AT, ENTRY_KEY, ENTRY_TYPE } from "./layout";

export {
  STATUS_OK as ls_STATUS_OK,
  STATUS_NOT_FOUND as ls_STATUS_NOT_FOUND,
  STATUS_ALREADY_EXISTS as ls_STATUS_ALREADY_EXISTS,
  STATUS_INVALID_VALUE as ls_STATUS_INVALID_VALUE,
  STATUS_BELOW_MIN as ls_STATUS_BELOW_MIN,
  STATUS_ABOVE_MAX as ls_STATUS_ABOVE_MAX,
  STATUS_OUT_OF_MEMORY as ls_STATUS_OUT_OF_MEMORY,
  STATUS_INVALID_ARGUMENT as ls_STATUS_INVALID_ARGUMENT,
  STATUS_VERSION_LIMIT as ls_STATUS_VERSION_LIMIT,
  TYPE_FREE as ls_TYPE_FREE,
  TYPE_FLOAT as ls_TYPE_FLOAT,
  TYPE_INTEGER as ls_TYPE_INTEGER,
  TYPE_BOOLEAN as ls_TYPE_BOOLEAN,
} from "./constants";

export {
  MAGIC as ls_MAGIC,
  LAYOUT_VERSION as ls_LAYOUT_VERSION,
  HEADER_BASE as ls_HEADER_BASE,
  HEADER_SIZE as ls_HEADER_SIZE,
  INDEX_SLOT_SIZE as ls_INDEX_SLOT_SIZE,
  ENTRY_SIZE as ls_ENTRY_SIZE,
  ENTRY_VALUE as ls_ENTRY_VALUE,
  ENTRY_MIN as ls_ENTRY_MIN,
  ENTRY_MAX as ls_ENTRY_MAX,
  ENTRY_VERSION as ls_ENTRY_VERSION,
  ENTRY_UPDATED_AT as ls_ENTRY_UPDATED_AT,
  ENTRY_KEY as ls_ENTRY_KEY,
  ENTRY_TYPE as ls_ENTRY_TYPE,
  HEADER_MAGIC as ls_HEADER_MAGIC,
  HEADER_LAYOUT as ls_HEADER_LAYOUT,
  HEADER_INDEX_CAPACITY as ls_HEADER_INDEX_CAPACITY,
  HEADER_COUNT as ls_HEADER_COUNT,
  HEADER_ENTRY_CAPACITY as ls_HEADER_ENTRY_CAPACITY,
  HEADER_HIGH_WATER as ls_HEADER_HIGH_WATER,
  HEADER_FREE_HEAD as ls_HEADER_FREE_HEAD,
  HEADER_MAX_PAGES as ls_HEADER_MAX_PAGES,
  HEADER_ENTRIES_BASE as ls_HEADER_ENTRIES_BASE,
  HEADER_REHASHES as ls_HEADER_REHASHES,
  INDEX_SLOT_KEY as ls_INDEX_SLOT_KEY,
  INDEX_SLOT_HANDLE as ls_INDEX_SLOT_HANDLE,
  HASH_MULTIPLIER as ls_HASH_MULTIPLIER,
  MIN_INDEX_CAPACITY as ls_MIN_INDEX_CAPACITY,
  MAX_INDEX_CAPACITY as ls_MAX_INDEX_CAPACITY,
  PAGE_SIZE as ls_PAGE_SIZE,
  BATCH_ITEM_SIZE as ls_BATCH_ITEM_SIZE,
  BATCH_VALUE as ls_BATCH_VALUE,
  BATCH_VERSION as ls_BATCH_VERSION,
  BATCH_HANDLE as ls_BATCH_HANDLE,
  BATCH_STATUS as ls_BATCH_STATUS,
  MAX_BATCH_ITEMS as ls_MAX_BATCH_ITEMS,
  BATCH_BASE as ls_BATCH_BASE,
  BATCH_AREA_ITEMS as ls_BATCH_AREA_ITEMS,
  INDEX_BASE as ls_INDEX_BASE,
} from "./layout";


/** Resets the table (optional: the first insert or reserve makes a default table) to hold `capacity` entries before growing; caps memory at `maxPages` (0 = 65,536). May grow memory. */
export function ls_init(capacity: i32, maxPages: i32): i32 { return table.init(capacity, maxPages); }
/** Grows once so that `additional` more inserts cannot fail for lack of room. May grow memory. */
export function ls_reserve(additional: i32): i32 { return table.reserve(additional); }
/** Adds an entry; returns its handle (>= 0) or a negated status. May grow memory. */
export function ls_insert(key: u32, type: i32, value: f64, min: f64, max: f64, version: f64, now: f64): i32 {
  return table.insert(key, type, value, min, max, version, now);
}
/** Handle of `key`, or -ls_STATUS_NOT_FOUND. */
export function ls_find(key: u32): i32 { return table.find(key); }
/** Value of `key`, or NaN when absent (use ls_find to tell a stored NaN apart). */
export function ls_get(key: u32): f64 { return table.fieldF64(table.find(key), ENTRY_VALUE); }
/** Validates `value`, stores it, bumps the version, stamps `now`. Returns a status; a failure changes nothing. */
export function ls_set(key: u32, value: f64, now: f64): i32 { return table.setAt(table.find(key), value, now); }
/** As ls_set, by handle: no hashing. */
export function ls_set_at(handle: i32, value: f64, now: f64): i32 { return table.setAt(handle, value, now); }
/** The status ls_set_at would return, changing nothing: validate a batch, then apply it. */
export function ls_check_at(handle: i32, value: f64): i32 { return table.checkAt(handle, value); }
/** Byte offset of a scratch area for `count` batch items (ls_BATCH_ITEM_SIZE bytes each), or a negated status. May grow memory; valid until the next call that may. */
export function ls_batch_area(count: i32): i32 { return table.batchArea(count); }
/** Validates every item of a batch written at `area`, then applies all of them or none; returns how many fail (statuses written per item). With `apply` 0 it only checks. */
export function ls_set_batch(area: i32, count: i32, now: f64, apply: i32): i32 { return table.setBatch(area, count, now, apply); }
/** Removes `key`; returns a status. Its handle is reused by a later insert. */
export function ls_delete(key: u32): i32 { return table.remove(key); }
/** First live handle >= `from`, or -1. */
export function ls_next(from: i32): i32 { return table.nextLive(from); }

export function ls_value_at(handle: i32): f64 { return table.fieldF64(handle, ENTRY_VALUE); }
export function ls_min_at(handle: i32): f64 { return table.fieldF64(handle, ENTRY_MIN); }
export function ls_max_at(handle: i32): f64 { return table.fieldF64(handle, ENTRY_MAX); }
export function ls_version_at(handle: i32): f64 { return table.fieldF64(handle, ENTRY_VERSION); }
export function ls_updated_at(handle: i32): f64 { return table.fieldF64(handle, ENTRY_UPDATED_AT); }
/** Key of a live handle (0 for a free one: check ls_type_at). A u32: JavaScript hosts read it with `>>> 0`. */
export function ls_key_at(handle: i32): u32 { return table.fieldU32(handle, ENTRY_KEY); }
/** Type tag of a handle; ls_TYPE_FREE when it holds nothing. */
export function ls_type_at(handle: i32): i32 { return <i32>table.fieldU32(handle, ENTRY_TYPE); }

export function ls_count(): i32 { return table.count(); }
export function ls_capacity(): i32 { return table.capacity(); }
export function ls_entry_capacity(): i32 { return table.entryCapacity(); }
/** Byte offset of entry 0; changes only when a call that may grow memory grows the table. */
export function ls_entries_base(): i32 { return table.entriesBaseOffset(); }
export function ls_rehash_count(): i32 { return table.rehashCount(); }
