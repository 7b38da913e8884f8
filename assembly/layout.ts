// Memory layout of the table. Design after CPython's compact dict: a small
// open-addressing index (linear probing, backward-shift deletion, so no
// tombstones) points into a dense array of entries. Rehashing rewrites only
// the 8-byte index slots; an entry keeps its handle for life, so a host may
// cache handles and read values without hashing.
//
//   HEADER_BASE
//   ┌──────────── header (HEADER_SIZE bytes) ────────────┐
//   │ magic │ layout │ indexCap │ count │ entryCap │ hiWater │ freeHead │ maxPages │ entriesBase │ rehashes │
//   └────────────────────────────────────────────────────┘
//   BATCH_BASE = HEADER_BASE + HEADER_SIZE
//   ┌─ batch area: BATCH_AREA_ITEMS × BATCH_ITEM_SIZE (scratch for ls_set_batch) ─┐
//   │ f64 value │ f64 version │ i32 handle │ i32 status │
//   └──────────────────────────────────────────────────────────────────────────────┘
//   INDEX_BASE = BATCH_BASE + BATCH_AREA_ITEMS × BATCH_ITEM_SIZE
//   ┌─ index: indexCap slots × INDEX_SLOT_SIZE ─┐   slot = u32 key │ u32 handle+1 (0 = empty)
//   └───────────────────────────────────────────┘
//   entriesBase = INDEX_BASE + indexCap × INDEX_SLOT_SIZE
//   ┌─ entries: entryCap × ENTRY_SIZE ──────────┐
//   │ f64 value │ f64 min │ f64 max │ f64 version │ f64 updatedAt │ u32 key │ u32 type │
//   └───────────────────────────────────────────┘
//   a larger batch area, when a batch outgrows the fixed one: entriesBase + entryCap × ENTRY_SIZE
//
// entryCap = indexCap × MAX_LOAD_NUM / MAX_LOAD_DEN, so the index load factor
// never exceeds 3/4. Growth moves the entries block up (memory.copy) and
// rebuilds the index in place; handles stay valid, entriesBase changes. The
// fixed batch area fits in the first page with a small table, so batches of
// up to BATCH_AREA_ITEMS numeric writes never grow memory (nor fail for it
// under a memory cap); a larger batch gets scratch past the entries.

/** Identifies a table header ("LSTB"). */
export const MAGIC: u32 = 0x4254534c;
/** Bumped whenever anything below changes meaning. */
export const LAYOUT_VERSION: u32 = 2;

/**
 * Where the header starts. The module has no static data (a test checks there
 * is no data section), so the table may begin at a fixed, documented offset.
 */
export const HEADER_BASE: i32 = 1024;
export const HEADER_SIZE: i32 = 64;
export const HEADER_MAGIC: i32 = 0;
export const HEADER_LAYOUT: i32 = 4;
export const HEADER_INDEX_CAPACITY: i32 = 8;
export const HEADER_COUNT: i32 = 12;
export const HEADER_ENTRY_CAPACITY: i32 = 16;
export const HEADER_HIGH_WATER: i32 = 20;
export const HEADER_FREE_HEAD: i32 = 24;
export const HEADER_MAX_PAGES: i32 = 28;
export const HEADER_ENTRIES_BASE: i32 = 32;
export const HEADER_REHASHES: i32 = 36;

export const INDEX_SLOT_SIZE: i32 = 8;
export const INDEX_SLOT_KEY: i32 = 0;
export const INDEX_SLOT_HANDLE: i32 = 4;

export const ENTRY_SIZE: i32 = 48;
export const ENTRY_VALUE: i32 = 0;
export const ENTRY_MIN: i32 = 8;
export const ENTRY_MAX: i32 = 16;
export const ENTRY_VERSION: i32 = 24;
export const ENTRY_UPDATED_AT: i32 = 32;
export const ENTRY_KEY: i32 = 40;
export const ENTRY_TYPE: i32 = 44;

/** One item of a batch (ls_set_batch): value in (stored value out), new version out, handle in, status out. */
export const BATCH_ITEM_SIZE: i32 = 24;
export const BATCH_VALUE: i32 = 0;
export const BATCH_VERSION: i32 = 8;
export const BATCH_HANDLE: i32 = 16;
export const BATCH_STATUS: i32 = 20;
/** Where the fixed batch area starts, right after the header. */
export const BATCH_BASE: i32 = HEADER_BASE + HEADER_SIZE;
/** Items the fixed batch area holds (24 KiB). */
export const BATCH_AREA_ITEMS: i32 = 1024;
/** Where the index starts, after the fixed batch area. */
export const INDEX_BASE: i32 = BATCH_BASE + BATCH_AREA_ITEMS * BATCH_ITEM_SIZE;
/** Most items one batch may have (a larger area is 24 MiB of scratch). */
export const MAX_BATCH_ITEMS: i32 = 1 << 20;

/** Fibonacci hashing: home slot = (key × HASH_MULTIPLIER mod 2^32) >> (32 − log2 capacity). */
export const HASH_MULTIPLIER: u32 = 0x9e3779b1;

/** Smallest index; a power of two. */
export const MIN_INDEX_CAPACITY: i32 = 8;
/** Largest index (2^26 slots: 2^26 × 3/4 entries of 48 bytes fill ~2.9 GiB, under wasm32's 4 GiB). */
export const MAX_INDEX_CAPACITY: i32 = 1 << 26;
export const MAX_LOAD_NUM: i32 = 3;
export const MAX_LOAD_DEN: i32 = 4;

/** Largest version and largest integer value: 2^53 - 1, exact in f64. */
export const MAX_SAFE_INTEGER: f64 = 9007199254740991.0;

export const PAGE_SIZE: i32 = 65536;
/** wasm32 cannot address more than 65,536 pages (4 GiB). */
export const MAX_PAGES: i32 = 65536;
