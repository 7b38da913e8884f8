// Drives the raw `ls_` exports of the release module dist/core.wasm, with no
// TypeScript wrapper in between. Every status code, type tag, layout offset and
// the hash multiplier are read from the module's exported globals.

import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../bench/harness.js';
import { MAX_UPDATE_ITEMS } from '../../dist/store/batch.js';
import { CONSTANT_NAMES, type ConstantName, type CoreExports } from '../../dist/wasm.js';

const RELEASE_BYTES = readFileSync(new URL('../../dist/core.wasm', import.meta.url));
const DEBUG_BYTES = readFileSync(new URL('../../build/core.debug.wasm', import.meta.url));
const RELEASE_MODULE = new WebAssembly.Module(RELEASE_BYTES);

type Exports = CoreExports & { readonly memory: WebAssembly.Memory };

type Constants = Readonly<Record<ConstantName, number>>;

interface Table {
  readonly x: Exports;
  readonly c: Constants;
}

function readConstants(instance: WebAssembly.Instance): Constants {
  const constants = {} as Record<ConstantName, number>;
  for (const name of CONSTANT_NAMES) {
    const global = instance.exports[`ls_${name}`];
    if (!(global instanceof WebAssembly.Global)) throw new Error(`core.wasm does not export the global ls_${name}`);
    const value = (global as WebAssembly.Global).value;
    if (typeof value !== 'number') throw new Error(`ls_${name} is not a number`);
    constants[name] = value;
  }
  return constants;
}

// Layout facts shared by the helpers below, read once from a throwaway instance.
// u32 globals come back through i32: `>>> 0` restores them.
const LAYOUT = readConstants(new WebAssembly.Instance(RELEASE_MODULE, {}));
const HASH_MULTIPLIER = LAYOUT.HASH_MULTIPLIER >>> 0;
const MAGIC = LAYOUT.MAGIC >>> 0;
const { HEADER_MAGIC, HEADER_LAYOUT, INDEX_SLOT_KEY, INDEX_SLOT_HANDLE } = LAYOUT;

/** A fresh instance of the release module, before ls_init. */
function instantiate(): Table {
  const instance = new WebAssembly.Instance(RELEASE_MODULE, {});
  return { x: instance.exports as unknown as Exports, c: readConstants(instance) };
}

/** A fresh, initialised table. */
function fresh(capacity = 0, maxPages = 0): Table {
  const t = instantiate();
  expect(t.x.ls_init(capacity, maxPages)).toBe(t.c.STATUS_OK);
  return t;
}

/** ls_key_at returns the u32 key through an i32 result: bring it back to 0 … 2^32 - 1. */
function keyAt(t: Table, handle: number): number {
  return t.x.ls_key_at(handle) >>> 0;
}

function homeSlot(key: number, capacity: number): number {
  return (Math.imul(key, HASH_MULTIPLIER) >>> 0) >>> (32 - Math.log2(capacity));
}

/** `n` keys >= `from` whose home slot at `capacity` is `slot`, skipping `exclude`. */
function keysWithHome(slot: number, capacity: number, n: number, from = 1_000_000, exclude: ReadonlySet<number> = new Set()): number[] {
  const keys: number[] = [];
  for (let key = from; keys.length < n; key++) {
    if (homeSlot(key, capacity) === slot && !exclude.has(key)) keys.push(key);
  }
  return keys;
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('pick from an empty list');
  return item;
}

function shuffled<T>(random: () => number, items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = out[i]!;
    out[i] = out[j]!;
    out[j] = tmp;
  }
  return out;
}

interface Entry {
  handle: number;
  type: number;
  value: number;
  min: number;
  max: number;
  version: number;
  updatedAt: number;
}

type Model = Map<number, Entry>;

/** What the table stores for `value`: integers and booleans have no -0. */
function stored(t: Table, type: number, value: number): number {
  return type === t.c.TYPE_FLOAT ? value : value + 0;
}

function insertOpen(t: Table, key: number, type: number, value: number, version = 0, now = 0): number {
  return t.x.ls_insert(key, type, value, -Infinity, Infinity, version, now);
}

/** Inserts and records in the model; the insert must succeed. */
function insertModel(t: Table, model: Model, key: number, type: number, value: number, version = 0, now = 0): number {
  const handle = insertOpen(t, key, type, value, version, now);
  expect(handle, `insert of key ${key}`).toBeGreaterThanOrEqual(0);
  model.set(key, { handle, type, value: stored(t, type, value), min: -Infinity, max: Infinity, version, updatedAt: now });
  return handle;
}

function entryAt(t: Table, handle: number) {
  return {
    value: t.x.ls_value_at(handle),
    min: t.x.ls_min_at(handle),
    max: t.x.ls_max_at(handle),
    version: t.x.ls_version_at(handle),
    updatedAt: t.x.ls_updated_at(handle),
    key: keyAt(t, handle),
    type: t.x.ls_type_at(handle),
  };
}

/** Index slots as [key, handle + 1] (0 = empty), per the layout's INDEX_SLOT_KEY / INDEX_SLOT_HANDLE. */
function indexSlots(t: Table): Array<[number, number]> {
  const view = new DataView(t.x.memory.buffer);
  const base = t.c.INDEX_BASE;
  const slots: Array<[number, number]> = [];
  for (let slot = 0; slot < t.x.ls_capacity(); slot++) {
    const address = base + slot * t.c.INDEX_SLOT_SIZE;
    slots.push([view.getUint32(address + INDEX_SLOT_KEY, true), view.getUint32(address + INDEX_SLOT_HANDLE, true)]);
  }
  return slots;
}

/** The index slot that holds `key`, or -1. */
function slotOf(t: Table, key: number): number {
  const handle = t.x.ls_find(key);
  if (handle < 0) return -1;
  return indexSlots(t).findIndex(([k, h]) => k === key && h === handle + 1);
}

/**
 * The linear-probing invariant: every occupied slot is reachable from its key's
 * home slot without crossing an empty slot, and there is one slot per live entry.
 */
function expectProbeChainsIntact(t: Table): void {
  const capacity = t.x.ls_capacity();
  const occupied = indexSlots(t).map(([, h]) => h !== 0);
  expect(occupied.filter(Boolean).length, 'occupied index slots').toBe(t.x.ls_count());
  for (let handle = t.x.ls_next(0); handle >= 0; handle = t.x.ls_next(handle + 1)) {
    const key = keyAt(t, handle);
    const slot = slotOf(t, key);
    expect(slot, `slot of key ${key}`).toBeGreaterThanOrEqual(0);
    for (let s = homeSlot(key, capacity); s !== slot; s = (s + 1) % capacity) {
      expect(occupied[s], `empty slot ${s} inside the probe chain of key ${key}`).toBe(true);
    }
  }
}

/** Every model entry is found with its handle and fields; every other probe key is absent. */
function expectMatchesModel(t: Table, model: Model, absentProbes: Iterable<number> = []): void {
  expect(t.x.ls_count()).toBe(model.size);
  for (const [key, entry] of model) {
    expect(t.x.ls_find(key), `find ${key}`).toBe(entry.handle);
    expect(t.x.ls_get(key), `get ${key}`).toBe(entry.value);
    expect(entryAt(t, entry.handle), `entry of key ${key}`).toEqual({
      value: entry.value,
      min: entry.min,
      max: entry.max,
      version: entry.version,
      updatedAt: entry.updatedAt,
      key,
      type: entry.type,
    });
  }
  for (const key of absentProbes) {
    if (model.has(key)) continue;
    expect(t.x.ls_find(key), `find absent ${key}`).toBe(-t.c.STATUS_NOT_FOUND);
    expect(t.x.ls_get(key), `get absent ${key}`).toBeNaN();
  }
}

/** Handles in iteration order (ls_next from 0). */
function liveHandles(t: Table): number[] {
  const handles: number[] = [];
  for (let handle = t.x.ls_next(0); handle >= 0; handle = t.x.ls_next(handle + 1)) handles.push(handle);
  return handles;
}

function expectIterationMatchesModel(t: Table, model: Model): void {
  const handles = liveHandles(t);
  for (let i = 1; i < handles.length; i++) expect(handles[i]!).toBeGreaterThan(handles[i - 1]!);
  for (const handle of handles) expect(t.x.ls_type_at(handle)).not.toBe(t.c.TYPE_FREE);
  const keys = handles.map((handle) => keyAt(t, handle));
  expect(new Set(keys).size).toBe(keys.length);
  expect(new Set(keys)).toEqual(new Set(model.keys()));
  expect(new Set(handles)).toEqual(new Set([...model.values()].map((entry) => entry.handle)));
}

/** Section ids of a wasm binary, in order. */
function sectionIds(bytes: Uint8Array): number[] {
  expect([...bytes.subarray(0, 8)]).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
  const ids: number[] = [];
  let p = 8;
  while (p < bytes.length) {
    const id = bytes[p++]!;
    let size = 0;
    let shift = 0;
    let byte: number;
    do {
      byte = bytes[p++]!;
      size += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    ids.push(id);
    p += size;
  }
  expect(p, 'sections end exactly at the end of the binary').toBe(bytes.length);
  return ids;
}

describe('core.wasm table (raw exports of the release module)', () => {
  it('insert/find/get/set round trip: handles are >= 0, and inserting an existing key returns -STATUS_ALREADY_EXISTS and changes nothing', () => {
    const t = fresh();
    const { c, x } = t;
    const keys = [0, 1, 42, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
    const handles = new Set<number>();
    keys.forEach((key, i) => {
      const handle = x.ls_insert(key, c.TYPE_FLOAT, i + 0.25, -100, 100, i * 3, 1000 + i);
      expect(handle).toBeGreaterThanOrEqual(0);
      handles.add(handle);
    });
    expect(handles.size).toBe(keys.length);
    expect(x.ls_count()).toBe(keys.length);
    keys.forEach((key, i) => {
      const handle = x.ls_find(key);
      expect(handle).toBeGreaterThanOrEqual(0);
      expect(x.ls_get(key)).toBe(i + 0.25);
      expect(entryAt(t, handle)).toEqual({
        value: i + 0.25,
        min: -100,
        max: 100,
        version: i * 3,
        updatedAt: 1000 + i,
        key,
        type: c.TYPE_FLOAT,
      });
    });

    // set by key, then by handle.
    keys.forEach((key, i) => {
      expect(x.ls_set(key, -i - 0.5, 2000 + i)).toBe(c.STATUS_OK);
      expect(x.ls_get(key)).toBe(-i - 0.5);
      const handle = x.ls_find(key);
      expect(x.ls_set_at(handle, i * 2, 3000 + i)).toBe(c.STATUS_OK);
      expect(x.ls_get(key)).toBe(i * 2);
      expect(x.ls_value_at(handle)).toBe(i * 2);
      expect(x.ls_version_at(handle)).toBe(i * 3 + 2);
      expect(x.ls_updated_at(handle)).toBe(3000 + i);
    });

    // A second insert of an existing key, with another type, value and bounds.
    const key = 42;
    const handle = x.ls_find(key);
    const before = entryAt(t, handle);
    const count = x.ls_count();
    const highest = Math.max(...handles);
    expect(x.ls_insert(key, c.TYPE_INTEGER, 7, 0, 10, 5, 9999)).toBe(-c.STATUS_ALREADY_EXISTS);
    expect(x.ls_insert(key, c.TYPE_FLOAT, 1.5, -Infinity, Infinity, 0, 9999)).toBe(-c.STATUS_ALREADY_EXISTS);
    expect(x.ls_count()).toBe(count);
    expect(x.ls_find(key)).toBe(handle);
    expect(entryAt(t, handle)).toEqual(before);
    // No handle was consumed by the rejected inserts.
    expect(x.ls_insert(12345, c.TYPE_BOOLEAN, 1, -Infinity, Infinity, 0, 0)).toBe(highest + 1);
  });

  it('collisions: keys sharing a home slot are all findable with the right values', () => {
    const t = fresh(48);
    const { c, x } = t;
    const capacity = x.ls_capacity();
    const rehashes = x.ls_rehash_count();
    const home = capacity / 4 + 1;
    const keys = keysWithHome(home, capacity, 10);
    keys.forEach((key, i) => {
      expect(x.ls_insert(key, c.TYPE_INTEGER, i * 100, -Infinity, Infinity, 0, 0)).toBeGreaterThanOrEqual(0);
    });
    expect(x.ls_rehash_count()).toBe(rehashes);
    expect(x.ls_capacity()).toBe(capacity);
    keys.forEach((key, i) => {
      expect(x.ls_get(key)).toBe(i * 100);
      expect(keyAt(t, x.ls_find(key))).toBe(key);
    });
    // The collisions are real: the cluster fills the slots home, home + 1, … in insertion order.
    expect(keys.map((key) => slotOf(t, key))).toEqual(keys.map((_, i) => (home + i) % capacity));
    // A colliding key that was never inserted is absent (the probe stops at the cluster's end).
    const [absent] = keysWithHome(home, capacity, 1, keys[keys.length - 1]! + 1);
    expect(x.ls_find(absent!)).toBe(-c.STATUS_NOT_FOUND);
    expect(x.ls_delete(absent!)).toBe(c.STATUS_NOT_FOUND);
    expect(x.ls_count()).toBe(keys.length);
    expectProbeChainsIntact(t);
  });

  describe('deletion with backward shift keeps probe chains intact', () => {
    /** Builds a cluster from groups of keys with the given home slots, inserted interleaved. */
    function buildCluster(homes: readonly number[], perHome: readonly number[]) {
      const t = fresh(48);
      const capacity = t.x.ls_capacity();
      const used = new Set<number>();
      const groups = homes.map((home, i) => {
        const keys = keysWithHome(((home % capacity) + capacity) % capacity, capacity, perHome[i]!, 1_000_000, used);
        for (const key of keys) used.add(key);
        return keys;
      });
      // Round-robin across the groups so that members of later groups sit between earlier ones.
      const order: number[] = [];
      for (let round = 0; order.length < used.size; round++) {
        for (const group of groups) if (group[round] !== undefined) order.push(group[round]!);
      }
      const model: Model = new Map();
      order.forEach((key, i) => {
        insertModel(t, model, key, t.c.TYPE_FLOAT, i + 0.5, i, i);
      });
      const rehashes = t.x.ls_rehash_count();
      expect(t.x.ls_capacity()).toBe(capacity);
      expectProbeChainsIntact(t);
      return { t, model, order, rehashes };
    }

    function exerciseEveryFirstDeletion(homesOf: (capacity: number) => number[], perHome: readonly number[]) {
      const probe = fresh(48);
      const homes = homesOf(probe.x.ls_capacity());
      const { order } = buildCluster(homes, perHome);
      for (let first = 0; first < order.length; first++) {
        const { t, model, rehashes } = buildCluster(homes, perHome);
        const firstKey = order[first]!;
        // Then a middle key (or the first one, when the middle one went first).
        const middleIndex = Math.floor(order.length / 2);
        const secondKey = order[middleIndex === first ? 0 : middleIndex]!;
        for (const key of [firstKey, secondKey]) {
          const removed = model.get(key)!;
          expect(t.x.ls_delete(key)).toBe(t.c.STATUS_OK);
          model.delete(key);
          expect(t.x.ls_delete(key)).toBe(t.c.STATUS_NOT_FOUND);
          expect(t.x.ls_type_at(removed.handle)).toBe(t.c.TYPE_FREE);
          expectMatchesModel(t, model, order);
          expectProbeChainsIntact(t);
        }
        // Re-inserting the deleted keys works, and everything is still found.
        insertModel(t, model, firstKey, t.c.TYPE_INTEGER, 111);
        insertModel(t, model, secondKey, t.c.TYPE_BOOLEAN, 1);
        expect(t.x.ls_rehash_count()).toBe(rehashes);
        expectMatchesModel(t, model, order);
        expectProbeChainsIntact(t);
        expectIterationMatchesModel(t, model);
      }
    }

    function exerciseRandomDeletionOrders(homesOf: (capacity: number) => number[], perHome: readonly number[], seed: number) {
      const random = mulberry32(seed);
      const probe = fresh(48);
      const homes = homesOf(probe.x.ls_capacity());
      for (let trial = 0; trial < 20; trial++) {
        const { t, model, order, rehashes } = buildCluster(homes, perHome);
        for (const key of shuffled(random, order)) {
          expect(t.x.ls_delete(key)).toBe(t.c.STATUS_OK);
          model.delete(key);
          expectMatchesModel(t, model, order);
          expectProbeChainsIntact(t);
        }
        expect(t.x.ls_count()).toBe(0);
        for (const key of shuffled(random, order)) insertModel(t, model, key, t.c.TYPE_FLOAT, random());
        expect(t.x.ls_rehash_count()).toBe(rehashes);
        expectMatchesModel(t, model, order);
        expectProbeChainsIntact(t);
      }
    }

    // Homes h, h+1, h+3 (members of later groups land inside the first group's run) and h+12 (beyond it).
    const middle = (capacity: number) => [capacity / 4, capacity / 4 + 1, capacity / 4 + 3, capacity / 4 + 12];
    // Homes at the last two slots and the first two: the cluster wraps around the end of the index.
    const wrapping = (capacity: number) => [capacity - 2, capacity - 1, 0, 2];

    it('deleting the first, a middle or the last key of a cluster keeps every other key findable, and re-inserting works', () => {
      exerciseEveryFirstDeletion(middle, [4, 2, 2, 1]);
    });

    it('deleting from a cluster that wraps around the end of the index keeps every other key findable, and re-inserting works', () => {
      const t = fresh(48);
      const capacity = t.x.ls_capacity();
      const { t: built, order } = buildCluster(wrapping(capacity), [3, 2, 2, 1]);
      // The cluster really wraps: it occupies the last slots and the first ones.
      const slots = new Set(order.map((key) => slotOf(built, key)));
      expect(slots.has(capacity - 1)).toBe(true);
      expect(slots.has(0)).toBe(true);
      exerciseEveryFirstDeletion(wrapping, [3, 2, 2, 1]);
    });

    it('deleting whole clusters in random orders (plain and wrapping) keeps every remaining key findable', () => {
      exerciseRandomDeletionOrders(middle, [4, 2, 2, 1], 0x5eed0001);
      exerciseRandomDeletionOrders(wrapping, [3, 2, 2, 1], 0x5eed0002);
    });

    /** Random insert/delete/set against a Map model; returns after checking every phase. */
    function randomOps(
      t: Table,
      random: () => number,
      pool: readonly number[],
      phases: ReadonlyArray<{ ops: number; insertBias: number }>,
    ) {
      const { c, x } = t;
      const model: Model = new Map();
      const types = [c.TYPE_FLOAT, c.TYPE_INTEGER, c.TYPE_BOOLEAN];
      const valueFor = (type: number): number => {
        if (type === c.TYPE_BOOLEAN) return random() < 0.5 ? 0 : 1;
        if (type === c.TYPE_INTEGER) return Math.floor(random() * 2_000_001) - 1_000_000;
        return (random() - 0.5) * 1e6;
      };
      let now = 1;
      for (const phase of phases) {
        for (let op = 0; op < phase.ops; op++) {
          now++;
          const key = pick(random, pool);
          const entry = model.get(key);
          const roll = random();
          if (roll < phase.insertBias) {
            const type = pick(random, types);
            const value = valueFor(type);
            const version = Math.floor(random() * 100);
            const result = x.ls_insert(key, type, value, -Infinity, Infinity, version, now);
            if (entry) {
              expect(result).toBe(-c.STATUS_ALREADY_EXISTS);
            } else {
              expect(result).toBeGreaterThanOrEqual(0);
              model.set(key, {
                handle: result,
                type,
                value: stored(t, type, value),
                min: -Infinity,
                max: Infinity,
                version,
                updatedAt: now,
              });
              expect(x.ls_count()).toBeLessThanOrEqual((x.ls_capacity() * 3) / 4);
            }
          } else if (roll < phase.insertBias + (1 - phase.insertBias) * 0.6) {
            expect(x.ls_delete(key)).toBe(entry ? c.STATUS_OK : c.STATUS_NOT_FOUND);
            if (entry) {
              expect(x.ls_type_at(entry.handle)).toBe(c.TYPE_FREE);
              model.delete(key);
            }
          } else if (!entry) {
            expect(x.ls_set(key, 1, now)).toBe(c.STATUS_NOT_FOUND);
          } else if (entry.type === c.TYPE_INTEGER && random() < 0.2) {
            // An invalid write changes nothing.
            expect(x.ls_set_at(entry.handle, 0.5, now)).toBe(c.STATUS_INVALID_VALUE);
          } else {
            const value = valueFor(entry.type);
            const status = random() < 0.5 ? x.ls_set(key, value, now) : x.ls_set_at(entry.handle, value, now);
            expect(status).toBe(c.STATUS_OK);
            entry.value = stored(t, entry.type, value);
            entry.version++;
            entry.updatedAt = now;
          }
        }
        expectMatchesModel(t, model, pool);
        expectIterationMatchesModel(t, model);
        expectProbeChainsIntact(t);
      }
      return model;
    }

    it('randomized mixed insert/delete/set (with growth) agrees with a Map model after every phase', () => {
      const t = fresh();
      const random = mulberry32(0xc0ffee);
      const small = Array.from({ length: 1500 }, (_, i) => i);
      const large = Array.from({ length: 500 }, () => Math.floor(random() * 2 ** 32));
      const pool = [...new Set([...small, ...large])];
      const phases = [
        { ops: 1500, insertBias: 0.8 },
        { ops: 1500, insertBias: 0.5 },
        { ops: 1500, insertBias: 0.2 },
        { ops: 1500, insertBias: 0.9 },
        { ops: 1500, insertBias: 0.4 },
        { ops: 2000, insertBias: 0.1 },
        { ops: 1500, insertBias: 0.6 },
      ];
      randomOps(t, random, pool, phases);
      expect(t.x.ls_rehash_count()).toBeGreaterThan(0);
    });

    it('randomized insert/delete on keys crowded around the end of the index (wrapping clusters, no growth) agrees with a Map model', () => {
      const t = fresh(1536);
      const capacity = t.x.ls_capacity();
      const rehashes = t.x.ls_rehash_count();
      const random = mulberry32(0xbadc0de);
      const used = new Set<number>();
      const pool: number[] = [];
      for (const home of [capacity - 3, capacity - 2, capacity - 1, 0, 1, 2]) {
        for (const key of keysWithHome(home, capacity, 20, 1, used)) {
          used.add(key);
          pool.push(key);
        }
      }
      const phases = Array.from({ length: 24 }, (_, i) => ({ ops: 250, insertBias: i % 3 === 2 ? 0.25 : 0.6 }));
      randomOps(t, random, pool, phases);
      expect(t.x.ls_rehash_count()).toBe(rehashes);
      expect(t.x.ls_capacity()).toBe(capacity);
    });
  });

  it('growth and rehash: capacity doubles, handles stay valid, entries_base moves, and count <= capacity * 3/4 after every insert', () => {
    const t = fresh();
    const { c, x } = t;
    expect(x.ls_capacity()).toBe(c.MIN_INDEX_CAPACITY);
    const handles: number[] = [];
    const values: number[] = [];
    let capacity = x.ls_capacity();
    let rehashes = x.ls_rehash_count();
    let entriesBase = x.ls_entries_base();
    const n = 5000;
    for (let i = 0; i < n; i++) {
      const key = Math.imul(i, 2654435761) >>> 0;
      const value = i * 1.5 - 7;
      const handle = x.ls_insert(key, c.TYPE_FLOAT, value, -Infinity, Infinity, i, i);
      expect(handle).toBeGreaterThanOrEqual(0);
      handles.push(handle);
      values.push(value);
      expect(x.ls_count()).toBe(i + 1);
      expect(x.ls_count()).toBeLessThanOrEqual((x.ls_capacity() * 3) / 4);
      expect(x.ls_entry_capacity()).toBeLessThanOrEqual((x.ls_capacity() * 3) / 4);
      if (x.ls_rehash_count() !== rehashes) {
        expect(x.ls_rehash_count()).toBe(rehashes + 1);
        expect(x.ls_capacity()).toBe(capacity * 2);
        expect(x.ls_entries_base()).not.toBe(entriesBase);
        // Every handle handed out so far still reads its value.
        handles.forEach((h, j) => {
          expect(x.ls_value_at(h)).toBe(values[j]);
        });
        rehashes = x.ls_rehash_count();
        capacity = x.ls_capacity();
        entriesBase = x.ls_entries_base();
      } else {
        expect(x.ls_capacity()).toBe(capacity);
        expect(x.ls_entries_base()).toBe(entriesBase);
      }
    }
    expect(x.ls_rehash_count()).toBeGreaterThanOrEqual(Math.log2(n / c.MIN_INDEX_CAPACITY));
    handles.forEach((handle, i) => {
      const key = Math.imul(i, 2654435761) >>> 0;
      expect(x.ls_value_at(handle)).toBe(values[i]);
      expect(x.ls_find(key)).toBe(handle);
      expect(keyAt(t, handle)).toBe(key);
      expect(x.ls_version_at(handle)).toBe(i);
    });
  });

  it('free list: the next insert reuses a freed handle; a freed handle reads as TYPE_FREE; set_at on freed or out-of-range handles is STATUS_NOT_FOUND', () => {
    const t = fresh();
    const { c, x } = t;
    const a = insertOpen(t, 10, c.TYPE_FLOAT, 1);
    const b = insertOpen(t, 20, c.TYPE_INTEGER, 2);
    const d = insertOpen(t, 30, c.TYPE_BOOLEAN, 1);
    expect(x.ls_delete(20)).toBe(c.STATUS_OK);
    expect(x.ls_type_at(b)).toBe(c.TYPE_FREE);
    expect(x.ls_value_at(b)).toBeNaN();
    expect(x.ls_key_at(b)).toBe(0);
    expect(x.ls_set_at(b, 5, 1)).toBe(c.STATUS_NOT_FOUND);
    expect(x.ls_check_at(b, 5)).toBe(c.STATUS_NOT_FOUND);
    for (const handle of [-1, 3, 1e9, -(2 ** 31), 2 ** 31 - 1]) {
      expect(x.ls_set_at(handle, 5, 1)).toBe(c.STATUS_NOT_FOUND);
      expect(x.ls_check_at(handle, 5)).toBe(c.STATUS_NOT_FOUND);
      expect(x.ls_type_at(handle)).toBe(c.TYPE_FREE);
      expect(x.ls_value_at(handle)).toBeNaN();
    }
    // The failed writes did not disturb the free list or the live entries.
    expect(insertOpen(t, 40, c.TYPE_FLOAT, 4)).toBe(b);
    expect(x.ls_get(40)).toBe(4);
    expect(x.ls_type_at(b)).toBe(c.TYPE_FLOAT);
    expect(x.ls_get(10)).toBe(1);
    expect(x.ls_get(30)).toBe(1);
    expect(x.ls_set_at(b, 6, 2)).toBe(c.STATUS_OK);
    expect(x.ls_get(40)).toBe(6);

    // Two frees, two inserts: both freed handles come back, and no new one is used.
    expect(x.ls_delete(10)).toBe(c.STATUS_OK);
    expect(x.ls_delete(30)).toBe(c.STATUS_OK);
    expect(x.ls_type_at(a)).toBe(c.TYPE_FREE);
    expect(x.ls_type_at(d)).toBe(c.TYPE_FREE);
    const reused = [insertOpen(t, 50, c.TYPE_FLOAT, 5), insertOpen(t, 60, c.TYPE_FLOAT, 6)];
    expect(new Set(reused)).toEqual(new Set([a, d]));
    expect(insertOpen(t, 70, c.TYPE_FLOAT, 7)).toBe(3);
    expect(x.ls_count()).toBe(4);
    expect(x.ls_get(50)).toBe(5);
    expect(x.ls_get(60)).toBe(6);
    expect(x.ls_get(70)).toBe(7);
  });

  describe('validation in wasm', () => {
    it('integer type rejects 1.5, NaN, ±Infinity and ±2**53 with STATUS_INVALID_VALUE, accepts ±(2**53 - 1), and stores -0 as +0', () => {
      const t = fresh();
      const { c, x } = t;
      const invalid = [1.5, -0.5, 0.1, Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 2 ** 60];
      for (const value of invalid) {
        expect(insertOpen(t, 1, c.TYPE_INTEGER, value), `insert ${value}`).toBe(-c.STATUS_INVALID_VALUE);
        expect(x.ls_find(1)).toBe(-c.STATUS_NOT_FOUND);
      }
      expect(x.ls_count()).toBe(0);
      const h = insertOpen(t, 1, c.TYPE_INTEGER, -0);
      expect(h).toBeGreaterThanOrEqual(0);
      expect(Object.is(x.ls_value_at(h), 0)).toBe(true);
      for (const value of invalid) {
        expect(x.ls_set_at(h, value, 1), `set ${value}`).toBe(c.STATUS_INVALID_VALUE);
        expect(x.ls_set(1, value, 1), `set ${value}`).toBe(c.STATUS_INVALID_VALUE);
      }
      for (const value of [2 ** 53 - 1, -(2 ** 53 - 1), 0, -17]) {
        expect(x.ls_set_at(h, value, 1)).toBe(c.STATUS_OK);
        expect(x.ls_value_at(h)).toBe(value);
      }
      expect(x.ls_set_at(h, -0, 1)).toBe(c.STATUS_OK);
      expect(Object.is(x.ls_value_at(h), 0)).toBe(true);
      expect(x.ls_set(1, -0, 1)).toBe(c.STATUS_OK);
      expect(Object.is(x.ls_get(1), 0)).toBe(true);
      expect(insertOpen(t, 2, c.TYPE_INTEGER, 2 ** 53 - 1)).toBeGreaterThanOrEqual(0);
      expect(insertOpen(t, 3, c.TYPE_INTEGER, -(2 ** 53 - 1))).toBeGreaterThanOrEqual(0);
    });

    it('boolean type accepts only 0 and 1 (and stores -0 as +0)', () => {
      const t = fresh();
      const { c, x } = t;
      const invalid = [2, -1, 0.5, Number.NaN, Infinity, -Infinity, 1e-300];
      for (const value of invalid) expect(insertOpen(t, 1, c.TYPE_BOOLEAN, value), `insert ${value}`).toBe(-c.STATUS_INVALID_VALUE);
      expect(x.ls_count()).toBe(0);
      const h0 = insertOpen(t, 1, c.TYPE_BOOLEAN, 0);
      const h1 = insertOpen(t, 2, c.TYPE_BOOLEAN, 1);
      expect(x.ls_get(1)).toBe(0);
      expect(x.ls_get(2)).toBe(1);
      for (const value of invalid) expect(x.ls_set_at(h0, value, 1), `set ${value}`).toBe(c.STATUS_INVALID_VALUE);
      expect(x.ls_set_at(h0, 1, 1)).toBe(c.STATUS_OK);
      expect(x.ls_set_at(h1, 0, 1)).toBe(c.STATUS_OK);
      expect(x.ls_get(1)).toBe(1);
      expect(x.ls_get(2)).toBe(0);
      expect(x.ls_set_at(h0, -0, 1)).toBe(c.STATUS_OK);
      expect(Object.is(x.ls_value_at(h0), 0)).toBe(true);
    });

    it('float type accepts NaN and ±Infinity even with min/max, and keeps -0 and 5e-324 exactly', () => {
      const t = fresh();
      const { c, x } = t;
      [Number.NaN, Infinity, -Infinity].forEach((value, i) => {
        const h = x.ls_insert(100 + i, c.TYPE_FLOAT, value, 0, 10, 0, 0);
        expect(h, `insert ${value}`).toBeGreaterThanOrEqual(0);
        expect(x.ls_value_at(h)).toBe(value);
      });
      const h = x.ls_insert(1, c.TYPE_FLOAT, 5, 0, 10, 0, 0);
      for (const value of [Number.NaN, Infinity, -Infinity]) {
        expect(x.ls_check_at(h, value)).toBe(c.STATUS_OK);
        expect(x.ls_set_at(h, value, 1)).toBe(c.STATUS_OK);
        expect(x.ls_value_at(h)).toBe(value);
      }
      const open = insertOpen(t, 2, c.TYPE_FLOAT, -0);
      expect(Object.is(x.ls_value_at(open), -0)).toBe(true);
      for (const value of [5e-324, -5e-324, -0, Number.MAX_VALUE, -Number.MAX_VALUE, 0.1 + 0.2, 2 ** 53 + 2]) {
        expect(x.ls_set_at(open, value, 1)).toBe(c.STATUS_OK);
        expect(x.ls_value_at(open)).toBe(value);
        expect(x.ls_get(2)).toBe(value);
      }
      const tiny = insertOpen(t, 3, c.TYPE_FLOAT, 5e-324);
      expect(x.ls_value_at(tiny)).toBe(5e-324);
      // -0 and 5e-324 inside [0, 10]: -0 is not below 0.
      const bounded = x.ls_insert(4, c.TYPE_FLOAT, -0, 0, 10, 0, 0);
      expect(bounded).toBeGreaterThanOrEqual(0);
      expect(Object.is(x.ls_value_at(bounded), -0)).toBe(true);
      expect(x.ls_set_at(bounded, 5e-324, 1)).toBe(c.STATUS_OK);
      expect(x.ls_value_at(bounded)).toBe(5e-324);
    });

    it('values outside [min, max] return STATUS_BELOW_MIN / STATUS_ABOVE_MAX (bounds inclusive)', () => {
      const t = fresh();
      const { c, x } = t;
      expect(x.ls_insert(1, c.TYPE_FLOAT, -1.0000001, -1, 1, 0, 0)).toBe(-c.STATUS_BELOW_MIN);
      expect(x.ls_insert(1, c.TYPE_FLOAT, 1.5, -1, 1, 0, 0)).toBe(-c.STATUS_ABOVE_MAX);
      expect(x.ls_insert(1, c.TYPE_INTEGER, -1, 0, 10, 0, 0)).toBe(-c.STATUS_BELOW_MIN);
      expect(x.ls_insert(1, c.TYPE_INTEGER, 11, 0, 10, 0, 0)).toBe(-c.STATUS_ABOVE_MAX);
      expect(x.ls_count()).toBe(0);
      const f = x.ls_insert(1, c.TYPE_FLOAT, -1, -1, 1, 0, 0);
      const i = x.ls_insert(2, c.TYPE_INTEGER, 10, 0, 10, 0, 0);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(i).toBeGreaterThanOrEqual(0);
      expect(x.ls_set_at(f, -1 - 2 ** -52, 1)).toBe(c.STATUS_BELOW_MIN);
      expect(x.ls_set_at(f, 1 + 2 ** -52, 1)).toBe(c.STATUS_ABOVE_MAX);
      expect(x.ls_set(1, -Number.MAX_VALUE, 1)).toBe(c.STATUS_BELOW_MIN);
      expect(x.ls_set(1, Number.MAX_VALUE, 1)).toBe(c.STATUS_ABOVE_MAX);
      expect(x.ls_set_at(f, 1, 1)).toBe(c.STATUS_OK);
      expect(x.ls_set_at(i, -1, 1)).toBe(c.STATUS_BELOW_MIN);
      expect(x.ls_set_at(i, 11, 1)).toBe(c.STATUS_ABOVE_MAX);
      expect(x.ls_set(2, 0, 1)).toBe(c.STATUS_OK);
      expect(x.ls_get(2)).toBe(0);
      expect(x.ls_get(1)).toBe(1);
    });

    it('a failed ls_set/ls_set_at changes nothing; a successful one bumps version by exactly 1 and stores now, never stepping back', () => {
      const t = fresh();
      const { c, x } = t;
      const h = x.ls_insert(7, c.TYPE_INTEGER, 5, 0, 10, 41, 100);
      const before = entryAt(t, h);
      expect(before.version).toBe(41);
      expect(before.updatedAt).toBe(100);
      const failures: Array<[number, number]> = [
        [1.5, c.STATUS_INVALID_VALUE],
        [Number.NaN, c.STATUS_INVALID_VALUE],
        [-1, c.STATUS_BELOW_MIN],
        [11, c.STATUS_ABOVE_MAX],
      ];
      for (const [value, status] of failures) {
        expect(x.ls_set(7, value, 200)).toBe(status);
        expect(entryAt(t, h)).toEqual(before);
        expect(x.ls_set_at(h, value, 300)).toBe(status);
        expect(entryAt(t, h)).toEqual(before);
      }
      expect(x.ls_set(7, 6, 400)).toBe(c.STATUS_OK);
      expect(entryAt(t, h)).toEqual({ ...before, value: 6, version: 42, updatedAt: 400 });
      expect(x.ls_set_at(h, 6, 500)).toBe(c.STATUS_OK);
      expect(entryAt(t, h)).toEqual({ ...before, value: 6, version: 43, updatedAt: 500 });
      // A now earlier than the entry's time (an imported time ahead of this clock) keeps the entry's time.
      expect(x.ls_set_at(h, 7, 50)).toBe(c.STATUS_OK);
      expect(entryAt(t, h)).toEqual({ ...before, value: 7, version: 44, updatedAt: 500 });
    });

    it('ls_check_at returns the status ls_set_at would return and changes nothing', () => {
      const t = fresh();
      const { c, x } = t;
      const handles = [
        x.ls_insert(1, c.TYPE_FLOAT, 0, -1, 1, 0, 0),
        x.ls_insert(2, c.TYPE_INTEGER, 0, -5, 5, 0, 0),
        x.ls_insert(3, c.TYPE_BOOLEAN, 0, -Infinity, Infinity, 0, 0),
        x.ls_insert(4, c.TYPE_FLOAT, 0, -Infinity, Infinity, 0, 0),
      ];
      expect(x.ls_delete(4)).toBe(c.STATUS_OK);
      const candidates = [0, -0, 1, -1, 0.5, 1.5, -1.5, 5, 6, -6, 2 ** 53, Number.NaN, Infinity, -Infinity, 5e-324];
      const seen = new Set<number>();
      let now = 10;
      for (const handle of [...handles, -1, 1e9]) {
        for (const value of candidates) {
          const before = entryAt(t, handle);
          const checked = x.ls_check_at(handle, value);
          expect(entryAt(t, handle)).toEqual(before);
          const set = x.ls_set_at(handle, value, ++now);
          expect(checked, `check_at(${handle}, ${value})`).toBe(set);
          seen.add(set);
        }
      }
      // The matrix exercised every kind of outcome.
      for (const status of [c.STATUS_OK, c.STATUS_NOT_FOUND, c.STATUS_INVALID_VALUE, c.STATUS_BELOW_MIN, c.STATUS_ABOVE_MAX]) {
        expect(seen.has(status)).toBe(true);
      }
    });

    it('ls_insert rejects unknown type tags, NaN bounds, min > max, bad versions and bounded booleans with -STATUS_INVALID_ARGUMENT', () => {
      const t = fresh();
      const { c, x } = t;
      const unknownTag = Math.max(c.TYPE_FLOAT, c.TYPE_INTEGER, c.TYPE_BOOLEAN) + 1;
      const cases: Array<[string, number, number, number, number, number]> = [
        // [label, type, value, min, max, version]
        ['TYPE_FREE', c.TYPE_FREE, 0, -Infinity, Infinity, 0],
        ['unknown tag', unknownTag, 0, -Infinity, Infinity, 0],
        ['tag -1', -1, 0, -Infinity, Infinity, 0],
        ['NaN min', c.TYPE_FLOAT, 0, Number.NaN, Infinity, 0],
        ['NaN max', c.TYPE_FLOAT, 0, -Infinity, Number.NaN, 0],
        ['NaN bounds on integer', c.TYPE_INTEGER, 0, Number.NaN, Number.NaN, 0],
        ['min > max', c.TYPE_FLOAT, 0, 5, 4, 0],
        ['min > max (integer)', c.TYPE_INTEGER, 0, 1, -1, 0],
        ['version 1.5', c.TYPE_FLOAT, 0, -Infinity, Infinity, 1.5],
        ['version -1', c.TYPE_FLOAT, 0, -Infinity, Infinity, -1],
        ['version NaN', c.TYPE_FLOAT, 0, -Infinity, Infinity, Number.NaN],
        ['version Infinity', c.TYPE_FLOAT, 0, -Infinity, Infinity, Infinity],
        ['version 2**53', c.TYPE_FLOAT, 0, -Infinity, Infinity, 2 ** 53],
        ['boolean with min 0, max 1', c.TYPE_BOOLEAN, 0, 0, 1, 0],
        ['boolean with finite min', c.TYPE_BOOLEAN, 0, 0, Infinity, 0],
        ['boolean with finite max', c.TYPE_BOOLEAN, 0, -Infinity, 1, 0],
      ];
      for (const [label, type, value, min, max, version] of cases) {
        expect(x.ls_insert(9, type, value, min, max, version, 0), label).toBe(-c.STATUS_INVALID_ARGUMENT);
        expect(x.ls_find(9), label).toBe(-c.STATUS_NOT_FOUND);
      }
      expect(x.ls_count()).toBe(0);
      // Nothing leaked: the first accepted insert gets handle 0; edge cases that are valid are accepted.
      expect(x.ls_insert(9, c.TYPE_FLOAT, 3, 3, 3, 2 ** 53 - 1, 0)).toBe(0);
      expect(x.ls_insert(10, c.TYPE_BOOLEAN, 1, -Infinity, Infinity, 0, 0)).toBe(1);
    });

    it('a set at version 2^53 - 1 is refused with STATUS_VERSION_LIMIT and changes nothing: versions never round or repeat', () => {
      const t = fresh();
      const { c, x } = t;
      // ls_insert accepts any integral version up to 2^53 - 1.
      const h = x.ls_insert(1, c.TYPE_FLOAT, 0, -Infinity, Infinity, 2 ** 53 - 2, 0);
      expect(h).toBeGreaterThanOrEqual(0);
      for (let write = 1; write <= 3; write++) {
        const before = entryAt(t, h);
        const checked = x.ls_check_at(h, write);
        const status = x.ls_set_at(h, write, write);
        expect(status, 'check_at agrees with set_at').toBe(checked);
        if (write === 1) {
          expect(status).toBe(c.STATUS_OK);
          expect(x.ls_version_at(h)).toBe(2 ** 53 - 1);
        } else {
          expect(status, `write ${write}`).toBe(c.STATUS_VERSION_LIMIT);
          expect(entryAt(t, h)).toEqual(before);
        }
        expect(Number.isSafeInteger(x.ls_version_at(h))).toBe(true);
      }
    });
  });

  describe('memory cap', () => {
    it('ls_init(0, 2): inserts fail with -STATUS_OUT_OF_MEMORY at the cap; earlier keys stay readable; sets, deletes and re-inserts still work', () => {
      const t = fresh(0, 2);
      const { c, x } = t;
      const model: Model = new Map();
      let key = 1;
      let result = 0;
      for (;;) {
        const rehashes = x.ls_rehash_count();
        result = x.ls_insert(key, c.TYPE_INTEGER, key * 3, -Infinity, Infinity, 0, 0);
        if (result < 0) {
          expect(x.ls_rehash_count()).toBe(rehashes);
          break;
        }
        model.set(key, { handle: result, type: c.TYPE_INTEGER, value: key * 3, min: -Infinity, max: Infinity, version: 0, updatedAt: 0 });
        key++;
        expect(key, 'the cap is reached').toBeLessThan(1_000_000);
      }
      expect(result).toBe(-c.STATUS_OUT_OF_MEMORY);
      expect(model.size).toBeGreaterThan(100);
      expect(x.memory.buffer.byteLength).toBeLessThanOrEqual(2 * c.PAGE_SIZE);
      // The failed insert changed nothing.
      expect(x.ls_find(key)).toBe(-c.STATUS_NOT_FOUND);
      expectMatchesModel(t, model, [key, key + 1]);
      // Another attempt fails the same way.
      expect(x.ls_insert(key + 1, c.TYPE_FLOAT, 0, -Infinity, Infinity, 0, 0)).toBe(-c.STATUS_OUT_OF_MEMORY);

      // Sets still work.
      for (const [k, entry] of model) {
        expect(x.ls_set(k, -k, 7)).toBe(c.STATUS_OK);
        entry.value = -k;
        entry.version++;
        entry.updatedAt = 7;
      }
      // Deletes still work; after them, inserts succeed again (reusing the freed handles).
      const deleted = [1, 2, 3, 50, 51, 100, 101, 102, 103, 104];
      const freed = new Set<number>();
      for (const k of deleted) {
        freed.add(model.get(k)!.handle);
        expect(x.ls_delete(k)).toBe(c.STATUS_OK);
        model.delete(k);
      }
      expectMatchesModel(t, model, deleted);
      const fresh10 = Array.from({ length: deleted.length }, (_, i) => 2_000_000 + i);
      const reused = new Set<number>();
      for (const k of fresh10) reused.add(insertModel(t, model, k, c.TYPE_FLOAT, k / 2));
      expect(reused).toEqual(freed);
      expect(x.ls_insert(3_000_000, c.TYPE_FLOAT, 0, -Infinity, Infinity, 0, 0)).toBe(-c.STATUS_OUT_OF_MEMORY);
      expectMatchesModel(t, model, [3_000_000]);
      expectIterationMatchesModel(t, model);
      expect(x.memory.buffer.byteLength).toBeLessThanOrEqual(2 * c.PAGE_SIZE);
    });

    it('ls_reserve beyond the cap fails with STATUS_OUT_OF_MEMORY and changes nothing; after ls_reserve(n) succeeds, n inserts cause no rehash', () => {
      const t = fresh(0, 2);
      const { c, x } = t;
      const model: Model = new Map();
      for (let k = 0; k < 100; k++) insertModel(t, model, k * 7 + 1, c.TYPE_FLOAT, k + 0.5, k, k);
      const state = () => ({
        count: x.ls_count(),
        capacity: x.ls_capacity(),
        entryCapacity: x.ls_entry_capacity(),
        entriesBase: x.ls_entries_base(),
        rehashes: x.ls_rehash_count(),
      });
      const before = state();
      for (const n of [100_000, 1_000_000, 2 ** 31 - 1]) {
        expect(x.ls_reserve(n), `reserve ${n}`).toBe(c.STATUS_OUT_OF_MEMORY);
        expect(state()).toEqual(before);
        expectMatchesModel(t, model);
      }
      expect(x.ls_reserve(-1)).toBe(c.STATUS_INVALID_ARGUMENT);
      expect(state()).toEqual(before);

      const n = 1000;
      expect(x.ls_reserve(n)).toBe(c.STATUS_OK);
      expect(x.ls_entry_capacity()).toBeGreaterThanOrEqual(model.size + n);
      const reserved = state();
      expectMatchesModel(t, model);
      for (let k = 0; k < n; k++) insertModel(t, model, 10_000_000 + k, c.TYPE_INTEGER, k);
      expect(x.ls_rehash_count()).toBe(reserved.rehashes);
      expect(x.ls_entries_base()).toBe(reserved.entriesBase);
      expectMatchesModel(t, model);
    });

    it('after a successful ls_reserve(n) on an uncapped table, n inserts cause no further rehash', () => {
      const t = fresh();
      const { c, x } = t;
      const model: Model = new Map();
      for (let k = 0; k < 5; k++) insertModel(t, model, k, c.TYPE_FLOAT, k);
      const n = 5000;
      expect(x.ls_reserve(n)).toBe(c.STATUS_OK);
      const rehashes = x.ls_rehash_count();
      const entriesBase = x.ls_entries_base();
      expect(x.ls_reserve(n)).toBe(c.STATUS_OK);
      expect(x.ls_rehash_count()).toBe(rehashes);
      for (let k = 0; k < n; k++) insertModel(t, model, 1_000_000 + k, c.TYPE_INTEGER, k);
      expect(x.ls_rehash_count()).toBe(rehashes);
      expect(x.ls_entries_base()).toBe(entriesBase);
      expectMatchesModel(t, model);
    });
  });

  describe('batches: ls_batch_area + ls_set_batch', () => {
    /** Writes items (handle, value) into the area `count` items long; returns the area. */
    function stage(t: Table, items: ReadonlyArray<readonly [number, number]>): number {
      const { c, x } = t;
      const area = x.ls_batch_area(items.length);
      expect(area).toBeGreaterThanOrEqual(0);
      const view = new DataView(x.memory.buffer);
      items.forEach(([handle, value], i) => {
        view.setFloat64(area + i * c.BATCH_ITEM_SIZE + c.BATCH_VALUE, value, true);
        view.setInt32(area + i * c.BATCH_ITEM_SIZE + c.BATCH_HANDLE, handle, true);
        view.setInt32(area + i * c.BATCH_ITEM_SIZE + c.BATCH_STATUS, -99, true);
      });
      return area;
    }
    const statuses = (t: Table, area: number, n: number) =>
      Array.from({ length: n }, (_, i) =>
        new DataView(t.x.memory.buffer).getInt32(area + i * t.c.BATCH_ITEM_SIZE + t.c.BATCH_STATUS, true),
      );
    const itemF64 = (t: Table, area: number, i: number, field: number) =>
      new DataView(t.x.memory.buffer).getFloat64(area + i * t.c.BATCH_ITEM_SIZE + field, true);

    it('the largest batch is the one updateVariables allows on every backend', () => {
      expect(MAX_UPDATE_ITEMS).toBe(LAYOUT.MAX_BATCH_ITEMS);
    });

    it('a batch of up to ls_BATCH_AREA_ITEMS uses the fixed area and never grows memory', () => {
      const t = fresh(0, 1);
      const { c, x } = t;
      const pages = x.memory.buffer.byteLength;
      expect(x.ls_batch_area(1)).toBe(c.BATCH_BASE);
      expect(x.ls_batch_area(c.BATCH_AREA_ITEMS)).toBe(c.BATCH_BASE);
      expect(x.memory.buffer.byteLength).toBe(pages);
      expect(c.INDEX_BASE).toBe(c.BATCH_BASE + c.BATCH_AREA_ITEMS * c.BATCH_ITEM_SIZE);
      // A larger area lies past the entries; a 1-page cap has room for some such areas, not for more.
      expect(x.ls_batch_area(c.BATCH_AREA_ITEMS + 1)).toBe(x.ls_entries_base() + x.ls_entry_capacity() * c.ENTRY_SIZE);
      expect(x.ls_batch_area(c.PAGE_SIZE / c.BATCH_ITEM_SIZE)).toBe(-c.STATUS_OUT_OF_MEMORY);
      expect(x.memory.buffer.byteLength).toBe(pages);
      expect(x.ls_batch_area(-1)).toBe(-c.STATUS_INVALID_ARGUMENT);
      expect(x.ls_batch_area(c.MAX_BATCH_ITEMS + 1)).toBe(-c.STATUS_INVALID_ARGUMENT);
    });

    it('applies every item in order (a handle named twice keeps its last value), with each stored value and new version', () => {
      const t = fresh();
      const { c, x } = t;
      const f = x.ls_insert(1, c.TYPE_FLOAT, 0.5, 0, 2, 0, 10);
      const i = x.ls_insert(2, c.TYPE_INTEGER, 3, -Infinity, Infinity, 7, 10);
      const b = insertOpen(t, 3, c.TYPE_BOOLEAN, 0);
      const area = stage(t, [
        [f, 1.5],
        [i, -0],
        [b, 1],
        [f, -0],
      ]);
      expect(x.ls_set_batch(area, 4, 99, 1)).toBe(0);
      expect(statuses(t, area, 4)).toEqual([c.STATUS_OK, c.STATUS_OK, c.STATUS_OK, c.STATUS_OK]);
      expect(Object.is(x.ls_value_at(f), -0)).toBe(true);
      expect(x.ls_version_at(f)).toBe(2);
      expect(Object.is(x.ls_value_at(i), 0)).toBe(true); // an integer has no -0
      expect(x.ls_version_at(i)).toBe(8);
      expect(x.ls_value_at(b)).toBe(1);
      for (const h of [f, i, b]) expect(x.ls_updated_at(h)).toBe(99);
      // Out: the value as stored and the version each item gave its entry.
      expect([0, 1, 2, 3].map((k) => itemF64(t, area, k, c.BATCH_VERSION))).toEqual([1, 8, 1, 2]);
      expect(Object.is(itemF64(t, area, 1, c.BATCH_VALUE), 0)).toBe(true);
      expect(Object.is(itemF64(t, area, 3, c.BATCH_VALUE), -0)).toBe(true);
    });

    it('any failing item changes nothing, and every item gets its own status', () => {
      const t = fresh();
      const { c, x } = t;
      const f = x.ls_insert(1, c.TYPE_FLOAT, 0.5, 0, 2, 0, 10);
      const i = insertOpen(t, 2, c.TYPE_INTEGER, 3);
      const b = insertOpen(t, 3, c.TYPE_BOOLEAN, 0);
      const before = [f, i, b].map((h) => entryAt(t, h));
      const area = stage(t, [
        [f, 1],
        [i, 1.5],
        [b, 2],
        [f, 5],
        [f, -1],
        [9999, 1],
      ]);
      expect(x.ls_set_batch(area, 6, 99, 1)).toBe(5);
      expect(statuses(t, area, 6)).toEqual([
        c.STATUS_OK,
        c.STATUS_INVALID_VALUE,
        c.STATUS_INVALID_VALUE,
        c.STATUS_ABOVE_MAX,
        c.STATUS_BELOW_MIN,
        c.STATUS_NOT_FOUND,
      ]);
      expect([f, i, b].map((h) => entryAt(t, h))).toEqual(before);
    });

    it('with apply 0 it only checks, even when every item is valid', () => {
      const t = fresh();
      const { c, x } = t;
      const f = insertOpen(t, 1, c.TYPE_FLOAT, 0.5);
      const area = stage(t, [[f, 1.25]]);
      expect(x.ls_set_batch(area, 1, 99, 0)).toBe(0);
      expect(statuses(t, area, 1)).toEqual([c.STATUS_OK]);
      expect(entryAt(t, f)).toMatchObject({ value: 0.5, version: 0, updatedAt: 0 });
    });

    it('near the version limit, earlier valid writes of the same batch count: the write that would pass 2^53 - 1 fails the batch', () => {
      const t = fresh();
      const { c, x } = t;
      const h = insertOpen(t, 1, c.TYPE_FLOAT, 0, Number.MAX_SAFE_INTEGER - 2);
      let area = stage(t, [
        [h, 1],
        [h, 2],
      ]);
      expect(x.ls_set_batch(area, 2, 5, 1)).toBe(0);
      expect(x.ls_version_at(h)).toBe(Number.MAX_SAFE_INTEGER);
      const g = insertOpen(t, 2, c.TYPE_FLOAT, 0, Number.MAX_SAFE_INTEGER - 1);
      area = stage(t, [
        [g, 1],
        [g, 2],
      ]);
      expect(x.ls_set_batch(area, 2, 5, 1)).toBe(1);
      expect(statuses(t, area, 2)).toEqual([c.STATUS_OK, c.STATUS_VERSION_LIMIT]);
      expect(entryAt(t, g)).toMatchObject({ value: 0, version: Number.MAX_SAFE_INTEGER - 1 });
      // An earlier item that fails its own checks is not a write and does not count.
      const k = x.ls_insert(3, c.TYPE_FLOAT, 0, 0, 1, Number.MAX_SAFE_INTEGER - 1, 0);
      area = stage(t, [
        [k, 5],
        [k, 0.5],
      ]);
      expect(x.ls_set_batch(area, 2, 5, 1)).toBe(1);
      expect(statuses(t, area, 2)).toEqual([c.STATUS_ABOVE_MAX, c.STATUS_OK]);
    });

    it('a batch of more than ls_BATCH_AREA_ITEMS items gets an area past the entries and applies all of them', () => {
      const t = fresh();
      const { c, x } = t;
      const n = c.BATCH_AREA_ITEMS + 5;
      const handles = Array.from({ length: n }, (_, k) => insertOpen(t, k + 1, c.TYPE_INTEGER, k));
      const area = stage(
        t,
        handles.map((h, k) => [h, k * 2] as const),
      );
      expect(area).toBeGreaterThanOrEqual(x.ls_entries_base() + x.ls_entry_capacity() * c.ENTRY_SIZE);
      expect(x.ls_set_batch(area, n, 1, 1)).toBe(0);
      expect(handles.map((h) => x.ls_value_at(h))).toEqual(handles.map((_, k) => k * 2));
    });
  });

  it('iteration: ls_next walks exactly the live handles', () => {
    const t = fresh();
    const { c, x } = t;
    expect(x.ls_next(0)).toBe(-1);
    const random = mulberry32(0x17e7);
    const model: Model = new Map();
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 300; i++) {
        const key = Math.floor(random() * 2 ** 32);
        if (!model.has(key)) insertModel(t, model, key, c.TYPE_FLOAT, random());
      }
      for (const key of [...model.keys()]) {
        if (random() < 0.4) {
          expect(x.ls_delete(key)).toBe(c.STATUS_OK);
          model.delete(key);
        }
      }
      expectIterationMatchesModel(t, model);
      expect(liveHandles(t).length).toBe(x.ls_count());
      expect(x.ls_next(-5)).toBe(x.ls_next(0));
    }
    for (const key of [...model.keys()]) expect(x.ls_delete(key)).toBe(c.STATUS_OK);
    model.clear();
    expect(x.ls_next(0)).toBe(-1);
    expectIterationMatchesModel(t, model);
  });

  it('the module has zero imports and no data section (release and debug builds)', () => {
    for (const [name, bytes] of [
      ['dist/core.wasm', RELEASE_BYTES],
      ['build/core.debug.wasm', DEBUG_BYTES],
    ] as const) {
      const module = new WebAssembly.Module(bytes);
      expect(WebAssembly.Module.imports(module), name).toEqual([]);
      expect(
        WebAssembly.Module.exports(module).some((e) => e.kind === 'memory' && e.name === 'memory'),
        name,
      ).toBe(true);
      const ids = sectionIds(bytes);
      expect(ids.length, name).toBeGreaterThan(0);
      expect(ids, `${name} has no data section`).not.toContain(11);
      expect(ids, `${name} has no data-count section`).not.toContain(12);
      expect(ids, `${name} has no import section`).not.toContain(2);
      // Instantiates with an empty import object.
      expect(() => new WebAssembly.Instance(module, {})).not.toThrow();
    }
  });

  describe('header at ls_HEADER_BASE', () => {
    it('after ls_init the header holds the magic "LSTB" and ls_LAYOUT_VERSION, and the index and entries follow it as documented', () => {
      const t = instantiate();
      const { c, x } = t;
      expect(new DataView(x.memory.buffer).getUint32(c.HEADER_BASE + HEADER_MAGIC, true)).toBe(0);
      expect(x.ls_init(0, 0)).toBe(c.STATUS_OK);
      const view = new DataView(x.memory.buffer);
      const bytes = new Uint8Array(x.memory.buffer, c.HEADER_BASE + HEADER_MAGIC, 4);
      expect(String.fromCharCode(...bytes)).toBe('LSTB');
      expect(view.getUint32(c.HEADER_BASE + HEADER_MAGIC, true)).toBe(MAGIC);
      expect(view.getUint32(c.HEADER_BASE + HEADER_LAYOUT, true)).toBe(c.LAYOUT_VERSION);
      expect(x.ls_entries_base()).toBe(c.INDEX_BASE + x.ls_capacity() * c.INDEX_SLOT_SIZE);

      const h = x.ls_insert(0xdeadbeef, c.TYPE_INTEGER, 42, -100, 100, 3, 1234.5);
      const entry = new DataView(x.memory.buffer, x.ls_entries_base() + h * c.ENTRY_SIZE, c.ENTRY_SIZE);
      expect(entry.getFloat64(c.ENTRY_VALUE, true)).toBe(42);
      expect(entry.getFloat64(c.ENTRY_MIN, true)).toBe(-100);
      expect(entry.getFloat64(c.ENTRY_MAX, true)).toBe(100);
      expect(entry.getFloat64(c.ENTRY_VERSION, true)).toBe(3);
      expect(entry.getFloat64(c.ENTRY_UPDATED_AT, true)).toBe(1234.5);
      expect(entry.getUint32(c.ENTRY_KEY, true)).toBe(0xdeadbeef);
      expect(entry.getUint32(c.ENTRY_TYPE, true)).toBe(c.TYPE_INTEGER);

      // Growth keeps the header in place.
      for (let k = 0; k < 100; k++) x.ls_insert(k, c.TYPE_FLOAT, k, -Infinity, Infinity, 0, 0);
      expect(x.ls_rehash_count()).toBeGreaterThan(0);
      const grown = new DataView(x.memory.buffer);
      expect(grown.getUint32(c.HEADER_BASE + HEADER_MAGIC, true)).toBe(MAGIC);
      expect(grown.getUint32(c.HEADER_BASE + HEADER_LAYOUT, true)).toBe(c.LAYOUT_VERSION);
    });

    it('the whole table state lives in linear memory: a copy of it into a fresh instance is the same table', () => {
      const a = fresh();
      const model: Model = new Map();
      const random = mulberry32(0xa11ce);
      for (let k = 0; k < 400; k++) insertModel(a, model, Math.floor(random() * 2 ** 32), a.c.TYPE_FLOAT, random(), k, k);
      for (const key of [...model.keys()].slice(0, 150)) {
        expect(a.x.ls_delete(key)).toBe(a.c.STATUS_OK);
        model.delete(key);
      }
      const b = instantiate();
      const source = new Uint8Array(a.x.memory.buffer);
      const missingPages = (source.byteLength - b.x.memory.buffer.byteLength) / b.c.PAGE_SIZE;
      if (missingPages > 0) b.x.memory.grow(missingPages);
      new Uint8Array(b.x.memory.buffer).set(source);
      expectMatchesModel(b, model);
      expectIterationMatchesModel(b, model);
      expect(b.x.ls_capacity()).toBe(a.x.ls_capacity());
      expect(b.x.ls_rehash_count()).toBe(a.x.ls_rehash_count());
      // The copy keeps working, including its free list.
      const freedHandles = new Set(Array.from({ length: 400 }, (_, h) => h).filter((h) => a.x.ls_type_at(h) === a.c.TYPE_FREE));
      expect(freedHandles.size).toBe(150);
      const reused = insertModel(b, model, 7, b.c.TYPE_INTEGER, 7);
      expect(freedHandles.has(reused)).toBe(true);
      expectMatchesModel(b, model);
    });
  });

  it('before ls_init every export returns (no trap, no hang): an empty table, made on the first insert or reserve', async () => {
    const { c } = instantiate();
    // Run each call in its own worker: a call that never returns cannot block the test process.
    const call = (name: string, args: number[]) =>
      new Promise<{ value?: number; trap?: string; hang?: true }>((resolve, reject) => {
        const worker = new Worker(
          `const { parentPort, workerData } = require('node:worker_threads');
           const exports = new WebAssembly.Instance(new WebAssembly.Module(workerData.bytes), {}).exports;
           try { parentPort.postMessage({ value: exports[workerData.name](...workerData.args) }); }
           catch (error) { parentPort.postMessage({ trap: String(error && error.message) }); }`,
          { eval: true, workerData: { bytes: RELEASE_BYTES, name, args } },
        );
        const timer = setTimeout(() => {
          void worker.terminate();
          resolve({ hang: true });
        }, 3000);
        worker.once('message', (message: { value?: number; trap?: string }) => {
          clearTimeout(timer);
          void worker.terminate();
          resolve(message);
        });
        worker.once('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
      });
    const results = {
      find: await call('ls_find', [12345]),
      get: await call('ls_get', [12345]),
      set: await call('ls_set', [12345, 1, 0]),
      delete: await call('ls_delete', [12345]),
      insert: await call('ls_insert', [12345, c.TYPE_FLOAT, 1, -Infinity, Infinity, 0, 0]),
      reserve: await call('ls_reserve', [1]),
    };
    expect(results).toEqual({
      find: { value: -c.STATUS_NOT_FOUND },
      get: { value: Number.NaN },
      set: { value: c.STATUS_NOT_FOUND },
      delete: { value: c.STATUS_NOT_FOUND },
      insert: { value: 0 },
      reserve: { value: c.STATUS_OK },
    });
    const { x } = instantiate();
    const handle = x.ls_insert(7, c.TYPE_FLOAT, 2.5, -Infinity, Infinity, 0, 0);
    expect(x.ls_find(7)).toBe(handle);
    expect(x.ls_get(7)).toBe(2.5);
    expect(x.ls_capacity()).toBe(c.MIN_INDEX_CAPACITY);
  });
});
