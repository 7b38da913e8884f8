// The open-addressing table: insert, find, set with validation, delete, grow.
// Everything lives in linear memory at HEADER_BASE (see layout.ts); nothing is
// allocated through the runtime, so the module needs no imports.

import {
  STATUS_OK, STATUS_NOT_FOUND, STATUS_ALREADY_EXISTS, STATUS_INVALID_VALUE,
  STATUS_BELOW_MIN, STATUS_ABOVE_MAX, STATUS_OUT_OF_MEMORY, STATUS_INVALID_ARGUMENT, STATUS_VERSION_LIMIT,
  TYPE_FREE, TYPE_FLOAT, TYPE_INTEGER, TYPE_BOOLEAN,
} from "./constants";
import {
  MAGIC, LAYOUT_VERSION, HEADER_BASE, HEADER_MAGIC, HEADER_LAYOUT, HEADER_INDEX_CAPACITY,
  HEADER_COUNT, HEADER_ENTRY_CAPACITY, HEADER_HIGH_WATER, HEADER_FREE_HEAD, HEADER_MAX_PAGES,
  HEADER_ENTRIES_BASE, HEADER_REHASHES, INDEX_SLOT_SIZE, INDEX_SLOT_KEY, INDEX_SLOT_HANDLE,
  ENTRY_SIZE, ENTRY_VALUE, ENTRY_MIN, ENTRY_MAX, ENTRY_VERSION, ENTRY_UPDATED_AT, ENTRY_KEY,
  ENTRY_TYPE, MIN_INDEX_CAPACITY, MAX_INDEX_CAPACITY, MAX_LOAD_NUM, MAX_LOAD_DEN,
  MAX_SAFE_INTEGER, PAGE_SIZE, MAX_PAGES, HASH_MULTIPLIER,
  BATCH_ITEM_SIZE, BATCH_VALUE, BATCH_VERSION, BATCH_HANDLE, BATCH_STATUS, MAX_BATCH_ITEMS,
  BATCH_BASE, BATCH_AREA_ITEMS, INDEX_BASE,
} from "./layout";


@inline function header32(field: i32): u32 { return load<u32>(HEADER_BASE + field); }
@inline function setHeader32(field: i32, value: u32): void { store<u32>(HEADER_BASE + field, value); }

@inline function indexCapacity(): i32 { return <i32>header32(HEADER_INDEX_CAPACITY); }
@inline function entriesBase(): i32 { return <i32>header32(HEADER_ENTRIES_BASE); }
@inline function highWater(): i32 { return <i32>header32(HEADER_HIGH_WATER); }
@inline function slotAddress(slot: i32): i32 { return INDEX_BASE + slot * INDEX_SLOT_SIZE; }
@inline function entryAddress(handle: i32): i32 { return entriesBase() + handle * ENTRY_SIZE; }

@inline function homeSlot(key: u32, capacity: i32): i32 {
  return <i32>((key * HASH_MULTIPLIER) >>> (<u32>clz<i32>(capacity) + 1));
}

@inline function entryCapacityFor(indexCap: i32): i32 {
  return indexCap / MAX_LOAD_DEN * MAX_LOAD_NUM;
}

/** Bytes from memory start needed for a table of this index capacity. */
@inline function bytesFor(indexCap: i32): i64 {
  return <i64>INDEX_BASE + <i64>indexCap * INDEX_SLOT_SIZE + <i64>entryCapacityFor(indexCap) * ENTRY_SIZE;
}

/** Grows memory so that `bytes` are addressable, within the cap. */
function ensureMemory(bytes: i64): i32 {
  const needed = <i32>((bytes + PAGE_SIZE - 1) / PAGE_SIZE);
  const have = memory.size();
  if (needed <= have) return STATUS_OK;
  let cap = <i32>header32(HEADER_MAX_PAGES);
  if (cap == 0 || cap > MAX_PAGES) cap = MAX_PAGES;
  if (needed > cap) return STATUS_OUT_OF_MEMORY;
  // memory.grow reports failure with -1 rather than trapping.
  if (memory.grow(needed - have) < 0) return STATUS_OUT_OF_MEMORY;
  return STATUS_OK;
}

/** Slot holding `key`, or -1. */
function findSlot(key: u32): i32 {
  const cap = indexCapacity();
  if (cap == 0) return -1; // never initialised: an empty table
  const mask = cap - 1;
  let slot = homeSlot(key, cap);
  while (true) {
    const address = slotAddress(slot);
    if (load<u32>(address, INDEX_SLOT_HANDLE) == 0) return -1;
    if (load<u32>(address, INDEX_SLOT_KEY) == key) return slot;
    slot = (slot + 1) & mask;
  }
  return -1;
}

/** Puts key → handle into the first empty slot of its probe chain (key known absent). */
function placeInIndex(key: u32, handle: i32): void {
  const cap = indexCapacity();
  const mask = cap - 1;
  let slot = homeSlot(key, cap);
  while (load<u32>(slotAddress(slot), INDEX_SLOT_HANDLE) != 0) slot = (slot + 1) & mask;
  const address = slotAddress(slot);
  store<u32>(address, key, INDEX_SLOT_KEY);
  store<u32>(address, <u32>handle + 1, INDEX_SLOT_HANDLE);
}

/**
 * Empties `slot` and shifts later members of its cluster back, so every key
 * stays reachable from its home slot without tombstones (Knuth 6.4, Algorithm R).
 */
function removeFromIndex(slot: i32): void {
  const cap = indexCapacity();
  const mask = cap - 1;
  let hole = slot;
  let probe = slot;
  while (true) {
    probe = (probe + 1) & mask;
    const address = slotAddress(probe);
    if (load<u32>(address, INDEX_SLOT_HANDLE) == 0) break;
    const home = homeSlot(load<u32>(address, INDEX_SLOT_KEY), cap);
    // The entry at `probe` may move into the hole only if its home is not in (hole, probe].
    const stays = hole <= probe ? (hole < home && home <= probe) : (hole < home || home <= probe);
    if (stays) continue;
    store<u64>(slotAddress(hole), load<u64>(address));
    hole = probe;
  }
  store<u64>(slotAddress(hole), 0);
}

/** Rebuilds the table with `newCap` index slots; entries keep their handles. */
function rehash(newCap: i32): i32 {
  const status = ensureMemory(bytesFor(newCap));
  if (status != STATUS_OK) return status;
  const oldBase = entriesBase();
  const newBase = INDEX_BASE + newCap * INDEX_SLOT_SIZE;
  const used = highWater();
  // memory.copy is a memmove: the blocks may overlap when moving up.
  memory.copy(newBase, oldBase, <usize>used * ENTRY_SIZE);
  memory.fill(INDEX_BASE, 0, <usize>newCap * INDEX_SLOT_SIZE);
  setHeader32(HEADER_INDEX_CAPACITY, newCap);
  setHeader32(HEADER_ENTRY_CAPACITY, entryCapacityFor(newCap));
  setHeader32(HEADER_ENTRIES_BASE, newBase);
  setHeader32(HEADER_REHASHES, header32(HEADER_REHASHES) + 1);
  for (let handle = 0; handle < used; handle++) {
    const address = newBase + handle * ENTRY_SIZE;
    if (load<u32>(address, ENTRY_TYPE) != TYPE_FREE) placeInIndex(load<u32>(address, ENTRY_KEY), handle);
  }
  return STATUS_OK;
}

/** A host may skip ls_init: the first call that needs a table makes a default one (no memory cap). */
function ensureInitialized(): i32 {
  return header32(HEADER_MAGIC) == MAGIC ? STATUS_OK : init(0, 0);
}

/** Makes room for `additional` more entries without further growth. */
export function reserve(additional: i32): i32 {
  if (additional < 0) return STATUS_INVALID_ARGUMENT;
  const ready = ensureInitialized();
  if (ready != STATUS_OK) return ready;
  const wanted = <i64>header32(HEADER_COUNT) + additional;
  let cap = indexCapacity();
  if (wanted <= <i64>entryCapacityFor(cap)) return STATUS_OK;
  while (<i64>entryCapacityFor(cap) < wanted) {
    if (cap >= MAX_INDEX_CAPACITY) return STATUS_OUT_OF_MEMORY;
    cap <<= 1;
  }
  return rehash(cap);
}

export function init(capacity: i32, maxPages: i32): i32 {
  if (maxPages < 0 || maxPages > MAX_PAGES) return STATUS_INVALID_ARGUMENT;
  if (capacity < 0 || capacity > entryCapacityFor(MAX_INDEX_CAPACITY)) return STATUS_INVALID_ARGUMENT;
  let cap = MIN_INDEX_CAPACITY;
  while (entryCapacityFor(cap) < capacity) cap <<= 1;
  const previousCap = header32(HEADER_MAX_PAGES);
  setHeader32(HEADER_MAX_PAGES, maxPages);
  const status = ensureMemory(bytesFor(cap));
  if (status != STATUS_OK) {
    setHeader32(HEADER_MAX_PAGES, previousCap);
    return status;
  }
  memory.fill(HEADER_BASE, 0, <usize>(bytesFor(cap) - HEADER_BASE));
  setHeader32(HEADER_MAGIC, MAGIC);
  setHeader32(HEADER_LAYOUT, LAYOUT_VERSION);
  setHeader32(HEADER_INDEX_CAPACITY, cap);
  setHeader32(HEADER_ENTRY_CAPACITY, entryCapacityFor(cap));
  setHeader32(HEADER_MAX_PAGES, maxPages);
  setHeader32(HEADER_ENTRIES_BASE, INDEX_BASE + cap * INDEX_SLOT_SIZE);
  return STATUS_OK;
}

/** Checks a value against a type and bounds; returns a status. */
@inline function checkValue(type: i32, value: f64, min: f64, max: f64): i32 {
  if (type == TYPE_INTEGER) {
    if (!(Math.abs(value) <= MAX_SAFE_INTEGER) || Math.trunc(value) != value) return STATUS_INVALID_VALUE;
  } else if (type == TYPE_BOOLEAN) {
    if (value != 0.0 && value != 1.0) return STATUS_INVALID_VALUE;
  } else if (!isFinite(value)) {
    return STATUS_OK; // NaN and ±Infinity bypass min/max, as in the origin design.
  }
  if (value < min) return STATUS_BELOW_MIN;
  if (value > max) return STATUS_ABOVE_MAX;
  return STATUS_OK;
}

/** Integers and booleans have no negative zero: -0 + 0 is +0, any other value is unchanged. */
@inline function normalize(type: i32, value: f64): f64 {
  return type == TYPE_FLOAT ? value : value + 0.0;
}

/** A write's time: `now`, or the entry's last update time if that is later (a clock never steps back per entry). */
@inline function stamp(address: i32, now: f64): void {
  const last = load<f64>(address, ENTRY_UPDATED_AT);
  store<f64>(address, now > last ? now : last, ENTRY_UPDATED_AT);
}

/** Adds an entry; returns its handle (>= 0) or a negated status. */
export function insert(key: u32, type: i32, value: f64, min: f64, max: f64, version: f64, now: f64): i32 {
  if (type != TYPE_FLOAT && type != TYPE_INTEGER && type != TYPE_BOOLEAN) return -STATUS_INVALID_ARGUMENT;
  if (isNaN(min) || isNaN(max) || min > max) return -STATUS_INVALID_ARGUMENT;
  if (type == TYPE_BOOLEAN && (min != -Infinity || max != Infinity)) return -STATUS_INVALID_ARGUMENT;
  if (!(version >= 0.0 && version <= MAX_SAFE_INTEGER) || Math.trunc(version) != version) return -STATUS_INVALID_ARGUMENT;
  const check = checkValue(type, value, min, max);
  if (check != STATUS_OK) return -check;
  const ready = ensureInitialized();
  if (ready != STATUS_OK) return -ready;
  if (findSlot(key) >= 0) return -STATUS_ALREADY_EXISTS;
  if (header32(HEADER_COUNT) + 1 > header32(HEADER_ENTRY_CAPACITY)) {
    const status = reserve(1);
    if (status != STATUS_OK) return -status;
  }
  let handle: i32;
  const freeHead = <i32>header32(HEADER_FREE_HEAD);
  if (freeHead != 0) {
    handle = freeHead - 1;
    setHeader32(HEADER_FREE_HEAD, load<u32>(entryAddress(handle), ENTRY_KEY));
  } else {
    handle = highWater();
    setHeader32(HEADER_HIGH_WATER, handle + 1);
  }
  const address = entryAddress(handle);
  store<f64>(address, normalize(type, value), ENTRY_VALUE);
  store<f64>(address, min, ENTRY_MIN);
  store<f64>(address, max, ENTRY_MAX);
  store<f64>(address, version, ENTRY_VERSION);
  store<f64>(address, now, ENTRY_UPDATED_AT);
  store<u32>(address, key, ENTRY_KEY);
  store<u32>(address, type, ENTRY_TYPE);
  placeInIndex(key, handle);
  setHeader32(HEADER_COUNT, header32(HEADER_COUNT) + 1);
  return handle;
}

/** Handle of the live entry with `key`, or -STATUS_NOT_FOUND. */
export function find(key: u32): i32 {
  const slot = findSlot(key);
  if (slot < 0) return -STATUS_NOT_FOUND;
  return <i32>load<u32>(slotAddress(slot), INDEX_SLOT_HANDLE) - 1;
}

/** True when `handle` names a live entry. */
@inline export function isLive(handle: i32): bool {
  return <u32>handle < <u32>highWater() && load<u32>(entryAddress(handle), ENTRY_TYPE) != TYPE_FREE;
}

/** Status that setAt would return, without changing anything: lets a host validate a whole batch first. */
export function checkAt(handle: i32, value: f64): i32 {
  if (!isLive(handle)) return STATUS_NOT_FOUND;
  const address = entryAddress(handle);
  const check = checkValue(<i32>load<u32>(address, ENTRY_TYPE), value, load<f64>(address, ENTRY_MIN), load<f64>(address, ENTRY_MAX));
  if (check != STATUS_OK) return check;
  // Versions must stay exact integers: past 2^53 - 1, +1 would round and repeat.
  return load<f64>(address, ENTRY_VERSION) >= MAX_SAFE_INTEGER ? STATUS_VERSION_LIMIT : STATUS_OK;
}

/** Validates and stores a value, bumps the version, stamps the time. A failure changes nothing. */
export function setAt(handle: i32, value: f64, now: f64): i32 {
  if (!isLive(handle)) return STATUS_NOT_FOUND;
  const address = entryAddress(handle);
  const type = <i32>load<u32>(address, ENTRY_TYPE);
  const check = checkValue(type, value, load<f64>(address, ENTRY_MIN), load<f64>(address, ENTRY_MAX));
  if (check != STATUS_OK) return check;
  const version = load<f64>(address, ENTRY_VERSION);
  if (version >= MAX_SAFE_INTEGER) return STATUS_VERSION_LIMIT;
  store<f64>(address, normalize(type, value), ENTRY_VALUE);
  store<f64>(address, version + 1.0, ENTRY_VERSION);
  stamp(address, now);
  return STATUS_OK;
}

/** Byte offset of a scratch area for `count` batch items: the fixed area, or one past the entries block; or -status. */
export function batchArea(count: i32): i32 {
  if (count < 0 || count > MAX_BATCH_ITEMS) return -STATUS_INVALID_ARGUMENT;
  const ready = ensureInitialized();
  if (ready != STATUS_OK) return -ready;
  if (count <= BATCH_AREA_ITEMS) return BATCH_BASE;
  const base = entriesBase() + <i32>header32(HEADER_ENTRY_CAPACITY) * ENTRY_SIZE;
  const status = ensureMemory(<i64>base + <i64>count * BATCH_ITEM_SIZE);
  return status == STATUS_OK ? base : -status;
}

/**
 * Checks every item of a batch, then applies all of them in order, or none.
 * Returns how many items fail (0: applied, unless `apply` is 0). Each item's
 * status is written back; on success each item also gets the value as stored
 * (-0 → 0 for integers) and its new version. The same handle may appear more
 * than once: each earlier occurrence that passes its own checks counts toward
 * the version limit.
 */
export function setBatch(area: i32, count: i32, now: f64, apply: i32): i32 {
  if (count < 0 || count > MAX_BATCH_ITEMS) return -STATUS_INVALID_ARGUMENT;
  let failures = 0;
  for (let i = 0; i < count; i++) {
    const item = area + i * BATCH_ITEM_SIZE;
    const handle = load<i32>(item, BATCH_HANDLE);
    let status = checkAt(handle, load<f64>(item, BATCH_VALUE));
    // Near the limit, earlier valid writes of this batch to the same entry count too (rare: a linear scan).
    if (status == STATUS_OK && load<f64>(entryAddress(handle), ENTRY_VERSION) + <f64>count > MAX_SAFE_INTEGER) {
      let earlier = 0;
      for (let j = 0; j < i; j++) {
        const other = area + j * BATCH_ITEM_SIZE;
        if (load<i32>(other, BATCH_HANDLE) == handle && load<i32>(other, BATCH_STATUS) == STATUS_OK) earlier++;
      }
      if (load<f64>(entryAddress(handle), ENTRY_VERSION) + <f64>earlier >= MAX_SAFE_INTEGER) status = STATUS_VERSION_LIMIT;
    }
    store<i32>(item, status, BATCH_STATUS);
    if (status != STATUS_OK) failures++;
  }
  if (failures != 0 || apply == 0) return failures;
  for (let i = 0; i < count; i++) {
    const item = area + i * BATCH_ITEM_SIZE;
    const address = entryAddress(load<i32>(item, BATCH_HANDLE));
    const stored = normalize(<i32>load<u32>(address, ENTRY_TYPE), load<f64>(item, BATCH_VALUE));
    const version = load<f64>(address, ENTRY_VERSION) + 1.0;
    store<f64>(address, stored, ENTRY_VALUE);
    store<f64>(address, version, ENTRY_VERSION);
    stamp(address, now);
    store<f64>(item, stored, BATCH_VALUE);
    store<f64>(item, version, BATCH_VERSION);
  }
  return 0;
}

/** Removes the entry with `key`; its handle goes on the free list. */
export function remove(key: u32): i32 {
  const slot = findSlot(key);
  if (slot < 0) return STATUS_NOT_FOUND;
  const handle = <i32>load<u32>(slotAddress(slot), INDEX_SLOT_HANDLE) - 1;
  removeFromIndex(slot);
  const address = entryAddress(handle);
  memory.fill(address, 0, ENTRY_SIZE);
  store<u32>(address, header32(HEADER_FREE_HEAD), ENTRY_KEY);
  setHeader32(HEADER_FREE_HEAD, handle + 1);
  setHeader32(HEADER_COUNT, header32(HEADER_COUNT) - 1);
  return STATUS_OK;
}

/** The first live handle >= `from`, or -1: for iteration in handle order. */
export function nextLive(from: i32): i32 {
  const end = highWater();
  for (let handle = from < 0 ? 0 : from; handle < end; handle++) {
    if (load<u32>(entryAddress(handle), ENTRY_TYPE) != TYPE_FREE) return handle;
  }
  return -1;
}

@inline export function fieldF64(handle: i32, field: i32): f64 {
  return isLive(handle) ? load<f64>(entryAddress(handle) + field) : NaN;
}

@inline export function fieldU32(handle: i32, field: i32): u32 {
  return isLive(handle) ? load<u32>(entryAddress(handle) + field) : 0;
}

export function count(): i32 { return <i32>header32(HEADER_COUNT); }
export function capacity(): i32 { return indexCapacity(); }
export function entryCapacity(): i32 { return <i32>header32(HEADER_ENTRY_CAPACITY); }
export function entriesBaseOffset(): i32 { return entriesBase(); }
export function rehashCount(): i32 { return <i32>header32(HEADER_REHASHES); }
