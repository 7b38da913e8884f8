// The scenario of test/embed/host.c, step for step, against the raw exports of
// dist/core.wasm instantiated with an empty import object. Both hosts print the
// same lines (embed.test.ts compares them byte for byte) and count the same
// checks. Keep the two files in step: a line or a check added to one belongs
// in the other.
//
// Floats print as C's "%.17g" (formatF64 reproduces it exactly), except NaN,
// the infinities and the zeros, which both hosts spell out: nan, inf, -inf,
// 0, -0.
//
// Run by hand: npx tsx test/embed/scenario.ts

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { CoreExports } from '../../dist/wasm.js';

type Exports = CoreExports & { readonly memory: WebAssembly.Memory };

export const CORE_WASM = new URL('../../dist/core.wasm', import.meta.url);

const N_KEYS = 3000;
const MAX_HANDLES = 65536;
const MISSING_KEY = 0x7fff0001;

// ---- numbers ---------------------------------------------------------------

const scratch = new DataView(new ArrayBuffer(8));

function bits(x: number): bigint {
  scratch.setFloat64(0, x, true);
  return scratch.getBigUint64(0, true);
}

function same(a: number, b: number): boolean {
  return bits(a) === bits(b);
}

function hex(b: bigint): string {
  return `0x${b.toString(16).padStart(16, '0')}`;
}

/**
 * `x` as C's printf("%.17g") prints it (glibc: exact decimal expansion, ties to
 * even), with nan, inf, -inf, 0 and -0 spelled out as host.c spells them.
 */
export function formatF64(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  // |x| = mantissa × 2^e exactly, then its exact decimal digits.
  const b = bits(Math.abs(x));
  const biased = Number(b >> 52n);
  const fraction = b & ((1n << 52n) - 1n);
  const mantissa = biased === 0 ? fraction : fraction | (1n << 52n);
  const e = biased === 0 ? -1074 : biased - 1075;
  let digits: string;
  let exponent: number; // decimal exponent of the first digit
  if (e >= 0) {
    digits = (mantissa << BigInt(e)).toString();
    exponent = digits.length - 1;
  } else {
    digits = (mantissa * 5n ** BigInt(-e)).toString();
    exponent = digits.length - 1 + e;
  }
  // Round to 17 significant digits, half to even.
  let head = digits.slice(0, 17).padEnd(17, '0');
  const rest = digits.slice(17);
  if (rest.length > 0) {
    const half = `5${'0'.repeat(rest.length - 1)}`;
    const odd = Number(head[16]) % 2 === 1;
    if (rest > half || (rest === half && odd)) {
      head = (BigInt(head) + 1n).toString();
      if (head.length > 17) {
        head = head.slice(0, 17);
        exponent += 1;
      }
    }
  }
  const trim = (s: string) => s.replace(/0+$/, '');
  let out: string;
  if (exponent < -4 || exponent >= 17) {
    const fractionDigits = trim(head.slice(1));
    const exp = `${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
    out = `${head[0]}${fractionDigits ? `.${fractionDigits}` : ''}e${exp}`;
  } else if (exponent >= 0) {
    const fractionDigits = trim(head.slice(exponent + 1));
    out = `${head.slice(0, exponent + 1)}${fractionDigits ? `.${fractionDigits}` : ''}`;
  } else {
    out = `0.${trim('0'.repeat(-exponent - 1) + head)}`;
  }
  return sign + out;
}

const F = formatF64;

// ---- the scenario ------------------------------------------------------------

/** Runs the scenario on a fresh instance; returns its lines. Throws on the first unexpected result. */
export function runScenario(module: WebAssembly.Module = new WebAssembly.Module(readFileSync(CORE_WASM))): string[] {
  const instance = new WebAssembly.Instance(module, {});
  const x = instance.exports as unknown as Exports;
  const lines: string[] = [];
  const print = (line: string) => lines.push(line);
  let checks = 0;

  function check(condition: boolean, message: () => string): void {
    checks++;
    if (!condition) throw new Error(`FAIL scenario.ts (check ${checks}): ${message()}`);
  }

  function global(name: string): number {
    const g = instance.exports[`ls_${name}`];
    if (!(g instanceof WebAssembly.Global)) throw new Error(`core.wasm does not export the global ls_${name}`);
    return g.value as number;
  }

  const OK = global('STATUS_OK');
  const NOT_FOUND = global('STATUS_NOT_FOUND');
  const ALREADY_EXISTS = global('STATUS_ALREADY_EXISTS');
  const INVALID_VALUE = global('STATUS_INVALID_VALUE');
  const BELOW_MIN = global('STATUS_BELOW_MIN');
  const ABOVE_MAX = global('STATUS_ABOVE_MAX');
  const OUT_OF_MEMORY = global('STATUS_OUT_OF_MEMORY');
  const INVALID_ARGUMENT = global('STATUS_INVALID_ARGUMENT');
  const VERSION_LIMIT = global('STATUS_VERSION_LIMIT');
  const TYPE_FREE = global('TYPE_FREE');
  const TYPE_FLOAT = global('TYPE_FLOAT');
  const TYPE_INTEGER = global('TYPE_INTEGER');
  const TYPE_BOOLEAN = global('TYPE_BOOLEAN');
  const MAGIC = global('MAGIC') >>> 0;
  const HEADER_BASE = global('HEADER_BASE');
  const HEADER_MAGIC = global('HEADER_MAGIC');
  const HEADER_COUNT = global('HEADER_COUNT');
  const ENTRY_SIZE = global('ENTRY_SIZE');
  const ENTRY_VALUE = global('ENTRY_VALUE');
  const ENTRY_VERSION = global('ENTRY_VERSION');
  const PAGE_SIZE = global('PAGE_SIZE');
  const BATCH_BASE = global('BATCH_BASE');
  const BATCH_ITEM_SIZE = global('BATCH_ITEM_SIZE');
  const BATCH_VALUE = global('BATCH_VALUE');
  const BATCH_VERSION = global('BATCH_VERSION');
  const BATCH_HANDLE = global('BATCH_HANDLE');
  const BATCH_STATUS = global('BATCH_STATUS');

  // Keys are u32: JavaScript reads an i32 key result back with >>> 0.
  const keyAt = (h: number) => x.ls_key_at(h) >>> 0;

  // Linear memory, re-read on every access: growth detaches the old buffer.
  const pages = () => x.memory.buffer.byteLength / PAGE_SIZE;
  function memF64(address: number): number {
    const buffer = x.memory.buffer;
    check(address + 8 <= buffer.byteLength, () => `f64 read at ${address} beyond memory`);
    return new DataView(buffer).getFloat64(address, true);
  }
  function memU32(address: number): number {
    const buffer = x.memory.buffer;
    check(address + 4 <= buffer.byteLength, () => `u32 read at ${address} beyond memory`);
    return new DataView(buffer).getUint32(address, true);
  }
  function memSetF64(address: number, value: number): void {
    const buffer = x.memory.buffer;
    check(address + 8 <= buffer.byteLength, () => `f64 write at ${address} beyond memory`);
    new DataView(buffer).setFloat64(address, value, true);
  }
  function memSetI32(address: number, value: number): void {
    const buffer = x.memory.buffer;
    check(address + 4 <= buffer.byteLength, () => `i32 write at ${address} beyond memory`);
    new DataView(buffer).setInt32(address, value, true);
  }
  /** The value of handle h, read straight from memory (ABI.md: entriesBase + h * ENTRY_SIZE + ENTRY_VALUE). */
  const entryValue = (h: number) => memF64(x.ls_entries_base() + h * ENTRY_SIZE + ENTRY_VALUE);

  function statusName(s: number): string {
    if (s === OK) return 'OK';
    if (s === NOT_FOUND) return 'NOT_FOUND';
    if (s === ALREADY_EXISTS) return 'ALREADY_EXISTS';
    if (s === INVALID_VALUE) return 'INVALID_VALUE';
    if (s === BELOW_MIN) return 'BELOW_MIN';
    if (s === ABOVE_MAX) return 'ABOVE_MAX';
    if (s === OUT_OF_MEMORY) return 'OUT_OF_MEMORY';
    if (s === INVALID_ARGUMENT) return 'INVALID_ARGUMENT';
    if (s === VERSION_LIMIT) return 'VERSION_LIMIT';
    return 'UNKNOWN';
  }

  function typeName(t: number): string {
    if (t === TYPE_FREE) return 'free';
    if (t === TYPE_FLOAT) return 'float';
    if (t === TYPE_INTEGER) return 'integer';
    if (t === TYPE_BOOLEAN) return 'boolean';
    return 'unknown';
  }

  const insertResult = (r: number) => (r >= 0 ? `handle ${r}` : `-status ${-r} ${statusName(-r)}`);

  /** What the table stores: integers and booleans have no -0. */
  const stored = (type: number, value: number) => (type === TYPE_FLOAT ? value : value === 0 ? 0 : value);

  const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

  const keys: number[] = [];
  const handles: number[] = [];
  const types: number[] = [];
  /** Per handle: 0 never handed out, 1 live, 2 freed by a delete. */
  const handleState = new Uint8Array(MAX_HANDLES);

  /** A successful insert must hand out a handle that is not live. */
  function takeHandle(key: number, h: number): void {
    check(h >= 0 && h < MAX_HANDLES && h < x.ls_entry_capacity(), () => `insert ${key}: handle ${h}`);
    check(handleState[h] !== 1, () => `insert ${key}: handle ${h} is already live`);
    handleState[h] = 1;
  }

  const keyOf = (i: number) => (Math.imul(i, 0x85ebca77) + 1) >>> 0;

  function keyValues(i: number): { type: number; value: number; min: number; max: number } {
    if (i % 3 === 0) return { type: TYPE_FLOAT, value: i / 7 - 200, min: -250.5, max: 250.75 };
    if (i % 3 === 1) return { type: TYPE_INTEGER, value: i * 3 - 4500, min: -5000, max: 5000 };
    return { type: TYPE_BOOLEAN, value: i % 2, min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY };
  }

  function printTable(what: string): void {
    print(
      `${what} count ${x.ls_count()} capacity ${x.ls_capacity()} entry_capacity ${x.ls_entry_capacity()} rehashes ${x.ls_rehash_count()} pages ${pages()}`,
    );
  }

  /** A set by key that must return `expected`: checks the value, version and time after it (unchanged on failure). */
  function setExpect(key: number, value: number, now: number, expected: number): void {
    const h = x.ls_find(key);
    check(h >= 0, () => `set: key ${key} not found`);
    const type = x.ls_type_at(h);
    const beforeValue = x.ls_value_at(h);
    const beforeVersion = x.ls_version_at(h);
    const beforeUpdated = x.ls_updated_at(h);
    const checked = x.ls_check_at(h, value);
    const s = x.ls_set(key, value, now);
    const v = x.ls_value_at(h);
    const version = x.ls_version_at(h);
    const updated = x.ls_updated_at(h);
    print(`set ${key} ${F(value)} -> status ${s} ${statusName(s)} value ${F(v)} version ${F(version)} updated ${F(updated)}`);
    check(s === expected, () => `set ${key} ${F(value)}: status ${s}, expected ${expected}`);
    check(checked === s, () => `check_at ${h} ${F(value)}: ${checked}, but set returned ${s}`);
    if (s === OK) {
      check(same(v, stored(type, value)), () => `set ${key} ${F(value)} stored ${F(v)}`);
      check(version === beforeVersion + 1, () => `set ${key}: version ${F(version)} after ${F(beforeVersion)}`);
      check(same(updated, now), () => `set ${key}: updated ${F(updated)}, expected ${F(now)}`);
    } else {
      check(same(v, beforeValue), () => `failed set ${key} changed the value ${F(beforeValue)} -> ${F(v)}`);
      check(same(version, beforeVersion), () => `failed set ${key} changed the version`);
      check(same(updated, beforeUpdated), () => `failed set ${key} changed the time`);
    }
    check(same(x.ls_get(key), v), () => `get ${key} disagrees with value_at`);
    check(same(entryValue(h), v), () => `memory disagrees with value_at for handle ${h}`);
  }

  /** An insert that must fail with `expected` and change nothing. */
  function insertFails(key: number, type: number, value: number, min: number, max: number, version: number, expected: number): void {
    const count = x.ls_count();
    const r = x.ls_insert(key, type, value, min, max, version, 1);
    print(`insert ${key} type ${type} ${F(value)} [${F(min)}, ${F(max)}] version ${F(version)} -> ${insertResult(r)}`);
    check(r === -expected, () => `insert ${key}: ${r}, expected -${expected}`);
    check(x.ls_count() === count, () => 'failed insert changed the count');
    if (expected !== ALREADY_EXISTS) check(x.ls_find(key) === -NOT_FOUND, () => `failed insert left key ${key}`);
  }

  /** A float/integer special value inserted with open bounds: read back from memory, bit for bit. */
  function special(key: number, type: number, value: number, min: number, max: number): void {
    const h = x.ls_insert(key, type, value, min, max, 0, 7);
    takeHandle(key, h);
    const v = x.ls_value_at(h);
    const m = entryValue(h);
    const signbit = bits(m) >> 63n === 1n ? 1 : 0;
    print(
      `special ${key} ${typeName(type)} ${F(value)} [${F(min)}, ${F(max)}] -> handle ${h} value ${F(v)} bits ${hex(bits(m))} signbit ${signbit} key_at ${keyAt(h)}`,
    );
    check(
      bits(m) === bits(stored(type, value)),
      () => `special ${key}: memory holds ${hex(bits(m))}, expected ${hex(bits(stored(type, value)))}`,
    );
    check(same(v, m), () => `special ${key}: value_at ${hex(bits(v))}, memory ${hex(bits(m))}`);
    check(same(x.ls_get(key), m), () => `special ${key}: get disagrees`);
    check(keyAt(h) === key, () => `special ${key}: key_at ${keyAt(h)}`);
    check(x.ls_type_at(h) === type, () => `special ${key}: type_at ${x.ls_type_at(h)}`);
  }

  /** Walks ls_next; checks order, liveness and that each key finds its own handle. */
  function iterate(what: string): void {
    let n = 0;
    let first = -1;
    let last = -1;
    let keySum = 0;
    for (let h = x.ls_next(0); h >= 0; h = x.ls_next(h + 1)) {
      check(h > last, () => `${what}: ls_next went from ${last} to ${h}`);
      check(x.ls_type_at(h) !== TYPE_FREE, () => `${what}: handle ${h} is free`);
      check(h < MAX_HANDLES && handleState[h] === 1, () => `${what}: handle ${h} is not one of the live handles`);
      check(x.ls_find(keyAt(h)) === h, () => `${what}: key ${keyAt(h)} does not find handle ${h}`);
      if (first < 0) first = h;
      last = h;
      keySum = (keySum + keyAt(h)) >>> 0;
      n++;
    }
    print(`${what} -> ${n} live first ${first} last ${last} key_sum ${keySum}`);
    check(n === x.ls_count(), () => `${what}: ${n} live handles, count ${x.ls_count()}`);
  }

  const inf = Number.POSITIVE_INFINITY;

  print(
    `constants OK=${OK} NOT_FOUND=${NOT_FOUND} ALREADY_EXISTS=${ALREADY_EXISTS} INVALID_VALUE=${INVALID_VALUE} BELOW_MIN=${BELOW_MIN} ABOVE_MAX=${ABOVE_MAX} OUT_OF_MEMORY=${OUT_OF_MEMORY} ` +
      `INVALID_ARGUMENT=${INVALID_ARGUMENT} VERSION_LIMIT=${VERSION_LIMIT} FREE=${TYPE_FREE} FLOAT=${TYPE_FLOAT} INTEGER=${TYPE_INTEGER} BOOLEAN=${TYPE_BOOLEAN} ENTRY_SIZE=${ENTRY_SIZE}`,
  );
  {
    const statuses = [NOT_FOUND, ALREADY_EXISTS, INVALID_VALUE, BELOW_MIN, ABOVE_MAX, OUT_OF_MEMORY, INVALID_ARGUMENT, VERSION_LIMIT];
    for (let i = 0; i < 8; i++) {
      const si = statuses[i]!;
      check(si > 0 && si !== OK, () => `status ${i} is ${si}`);
      for (let j = 0; j < i; j++) check(si !== statuses[j], () => `statuses ${i} and ${j} are equal`);
    }
    const tags = new Set([TYPE_FREE, TYPE_FLOAT, TYPE_INTEGER, TYPE_BOOLEAN]);
    check(tags.size === 4, () => 'type tags are not distinct');
  }

  // A fresh instance is an empty table.
  print(
    `fresh count ${x.ls_count()} capacity ${x.ls_capacity()} find 1 -> ${x.ls_find(1)} next 0 -> ${x.ls_next(0)} get 1 -> ${F(x.ls_get(1))}`,
  );
  check(x.ls_count() === 0, () => 'fresh count');
  check(x.ls_find(1) === -NOT_FOUND, () => 'fresh find');
  check(x.ls_next(0) === -1, () => 'fresh next');
  check(Number.isNaN(x.ls_get(1)), () => 'fresh get');

  // ls_init: bad arguments, then a small table capped at 16 pages (1 MiB).
  for (const [capacity, maxPages] of [
    [-1, 0],
    [8, -1],
    [8, 65537],
  ] as const) {
    const s = x.ls_init(capacity, maxPages);
    print(`init ${capacity} ${maxPages} -> status ${s} ${statusName(s)}`);
    check(s === INVALID_ARGUMENT, () => `init ${capacity} ${maxPages}: ${s}`);
  }
  {
    const s = x.ls_init(8, 16);
    printTable('init 8 16 ->');
    check(s === OK, () => `init: ${s}`);
    check(x.ls_count() === 0 && x.ls_rehash_count() === 0, () => 'init: not empty');
    check(isPowerOfTwo(x.ls_capacity()), () => `init: capacity ${x.ls_capacity()}`);
    check(
      x.ls_entry_capacity() >= 8 && x.ls_entry_capacity() === (x.ls_capacity() / 4) * 3,
      () => `init: entry capacity ${x.ls_entry_capacity()}`,
    );
    check(memU32(HEADER_BASE + HEADER_MAGIC) === MAGIC, () => 'header magic');
  }

  // Insert N_KEYS keys of the three types: the table grows several times.
  {
    let capacity = x.ls_capacity();
    let rehashes = x.ls_rehash_count();
    let grows = 0;
    for (let i = 0; i < N_KEYS; i++) {
      const { type, value, min, max } = keyValues(i);
      const key = keyOf(i);
      keys.push(key);
      types.push(type);
      const h = x.ls_insert(key, type, value, min, max, i % 5, 1000 + i);
      print(`insert ${key} ${typeName(type)} ${F(value)} [${F(min)}, ${F(max)}] -> ${insertResult(h)}`);
      takeHandle(key, h);
      handles.push(h);
      check(x.ls_count() === i + 1, () => `insert ${key}: count ${x.ls_count()}`);
      check(x.ls_find(key) === h, () => `insert ${key}: find ${x.ls_find(key)}`);
      if (x.ls_capacity() !== capacity) {
        grows++;
        print(
          `grow at count ${x.ls_count()} -> capacity ${x.ls_capacity()} entry_capacity ${x.ls_entry_capacity()} rehashes ${x.ls_rehash_count()} entries_base ${x.ls_entries_base()} pages ${pages()}`,
        );
        check(x.ls_capacity() > capacity && isPowerOfTwo(x.ls_capacity()), () => `grow: capacity ${x.ls_capacity()}`);
        check(x.ls_entry_capacity() === (x.ls_capacity() / 4) * 3, () => `grow: entry capacity ${x.ls_entry_capacity()}`);
        check(x.ls_rehash_count() === rehashes + 1, () => `grow: rehashes ${x.ls_rehash_count()}`);
        capacity = x.ls_capacity();
        rehashes = x.ls_rehash_count();
      }
    }
    printTable('inserted');
    check(grows >= 3 && x.ls_rehash_count() === grows, () => `only ${grows} growths`);
    check(pages() <= 16, () => `memory cap crossed: ${pages()} pages`);
  }

  // Inserts that must fail and change nothing.
  {
    const { type, value, min, max } = keyValues(5);
    insertFails(keys[5]!, type, value, min, max, 0, ALREADY_EXISTS);
    check(x.ls_find(keys[5]!) === handles[5], () => `duplicate insert moved key ${keys[5]}`);
    insertFails(MISSING_KEY, 99, 1, -inf, inf, 0, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FREE, 1, -inf, inf, 0, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FLOAT, 1, Number.NaN, inf, 0, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FLOAT, 1, 5, 4, 0, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_BOOLEAN, 1, 0, 1, 0, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FLOAT, 1, -inf, inf, -1, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FLOAT, 1, -inf, inf, 1.5, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FLOAT, 1, -inf, inf, 9007199254740992, INVALID_ARGUMENT);
    insertFails(MISSING_KEY, TYPE_FLOAT, 10, 0, 5, 0, ABOVE_MAX);
    insertFails(MISSING_KEY, TYPE_FLOAT, -1, 0, 5, 0, BELOW_MIN);
    insertFails(MISSING_KEY, TYPE_INTEGER, 2.5, -inf, inf, 0, INVALID_VALUE);
    insertFails(MISSING_KEY, TYPE_BOOLEAN, 2, -inf, inf, 0, INVALID_VALUE);
  }

  // Every value back, by key and by handle.
  for (let i = 0; i < N_KEYS; i++) {
    const { type, value, min, max } = keyValues(i);
    const key = keys[i]!;
    const h = x.ls_find(key);
    const v = x.ls_get(key);
    print(`get ${key} -> ${F(v)} handle ${h} version ${F(x.ls_version_at(h))} updated ${F(x.ls_updated_at(h))}`);
    check(h === handles[i], () => `find ${key}: ${h}, inserted as ${handles[i]}`);
    check(same(v, stored(type, value)), () => `get ${key}: ${F(v)}, inserted ${F(value)}`);
    check(same(x.ls_value_at(h), v), () => `value_at ${h}`);
    check(same(entryValue(h), v), () => `memory value of handle ${h}`);
    check(x.ls_type_at(h) === type, () => `type_at ${h}: ${x.ls_type_at(h)}`);
    check(keyAt(h) === key, () => `key_at ${h}: ${keyAt(h)}`);
    check(same(x.ls_min_at(h), min) && same(x.ls_max_at(h), max), () => `bounds of ${h}`);
    check(x.ls_version_at(h) === i % 5, () => `version of ${h}`);
    check(x.ls_updated_at(h) === 1000 + i, () => `updated of ${h}`);
  }

  // Sets: constraint failures change nothing; each success bumps the version by 1.
  {
    const [f, n, b] = [keys[3]!, keys[4]!, keys[5]!]; // float [-250.5, 250.75], integer [-5000, 5000], boolean
    let now = 2000;
    setExpect(f, -250.6, now++, BELOW_MIN);
    setExpect(f, 250.8, now++, ABOVE_MAX);
    setExpect(f, -1e300, now++, BELOW_MIN);
    setExpect(f, 1e300, now++, ABOVE_MAX);
    setExpect(f, 12.5, now++, OK);
    setExpect(f, -250.5, now++, OK);
    setExpect(f, 250.75, now++, OK);
    setExpect(f, 0.1, now++, OK);
    setExpect(f, Number.NaN, now++, OK);
    setExpect(f, inf, now++, OK);
    setExpect(f, -inf, now++, OK);
    setExpect(f, -0, now++, OK);
    setExpect(f, Number.MIN_VALUE, now++, OK);
    setExpect(f, -1 / 3, now++, OK);
    setExpect(n, 2.5, now++, INVALID_VALUE);
    setExpect(n, Number.NaN, now++, INVALID_VALUE);
    setExpect(n, inf, now++, INVALID_VALUE);
    setExpect(n, 9007199254740992, now++, INVALID_VALUE);
    setExpect(n, 1e-300, now++, INVALID_VALUE);
    setExpect(n, -5001, now++, BELOW_MIN);
    setExpect(n, 5001, now++, ABOVE_MAX);
    setExpect(n, 5000, now++, OK);
    setExpect(n, -5000, now++, OK);
    setExpect(n, -0, now++, OK);
    setExpect(n, 17, now++, OK);
    setExpect(b, 0.5, now++, INVALID_VALUE);
    setExpect(b, 2, now++, INVALID_VALUE);
    setExpect(b, -1, now++, INVALID_VALUE);
    setExpect(b, Number.NaN, now++, INVALID_VALUE);
    setExpect(b, 0, now++, OK);
    setExpect(b, -0, now++, OK);
    setExpect(b, 1, now++, OK);

    const s = x.ls_set(MISSING_KEY, 1, now);
    print(`set ${MISSING_KEY} 1 -> status ${s} ${statusName(s)}`);
    check(s === NOT_FOUND, () => `set of a missing key: ${s}`);
    for (const h of [-1, x.ls_entry_capacity(), MAX_HANDLES]) {
      const sa = x.ls_set_at(h, 1, now);
      const ca = x.ls_check_at(h, 1);
      print(
        `set_at ${h} 1 -> status ${sa} ${statusName(sa)} check_at -> ${ca} type_at -> ${x.ls_type_at(h)} value_at -> ${F(x.ls_value_at(h))} key_at -> ${keyAt(h)}`,
      );
      check(sa === NOT_FOUND && ca === NOT_FOUND, () => `set_at/check_at of handle ${h}: ${sa} ${ca}`);
      check(x.ls_type_at(h) === TYPE_FREE && Number.isNaN(x.ls_value_at(h)) && keyAt(h) === 0, () => `handle ${h} reads as live`);
    }

    // ls_set_at by handle, same rules.
    const h = handles[4]!;
    const version = x.ls_version_at(h);
    const s1 = x.ls_set_at(h, 4999, now);
    const s2 = x.ls_set_at(h, 4999.5, now + 1);
    print(
      `set_at ${h} 4999 -> status ${s1} ${statusName(s1)}; 4999.5 -> status ${s2} ${statusName(s2)}; value ${F(x.ls_value_at(h))} version ${F(x.ls_version_at(h))}`,
    );
    check(s1 === OK && s2 === INVALID_VALUE, () => `set_at statuses ${s1} ${s2}`);
    check(x.ls_value_at(h) === 4999 && x.ls_version_at(h) === version + 1, () => 'set_at result');
  }

  // The version limit: 2^53 - 1 is the last version a write can reach.
  {
    const key = 0x7ffffffe;
    const h = x.ls_insert(key, TYPE_FLOAT, 1, -inf, inf, 9007199254740990, 3);
    print(`insert ${key} version 9007199254740990 -> ${insertResult(h)}`);
    takeHandle(key, h);
    setExpect(key, 2, 3000, OK);
    setExpect(key, 3, 3001, VERSION_LIMIT);
    check(x.ls_version_at(h) === 9007199254740991, () => `version at the limit: ${F(x.ls_version_at(h))}`);
    check(x.ls_delete(key) === OK, () => `delete ${key}`);
    handleState[h] = 2;
  }

  // -0, NaN, infinities and subnormals are stored exactly in floats; integers store -0 as 0.
  {
    const nan = Number.NaN;
    const specials: Array<[number, number, number, number, number]> = [
      [0, TYPE_FLOAT, -0, -inf, inf],
      [0xffffffff, TYPE_FLOAT, nan, -inf, inf],
      [0x80000000, TYPE_FLOAT, inf, -inf, inf],
      [0x80000001, TYPE_FLOAT, -inf, -inf, inf],
      [0xdeadbeef, TYPE_FLOAT, Number.MIN_VALUE, -inf, inf],
      [0xdeadbef0, TYPE_FLOAT, -2.2250738585072009e-308, -inf, inf],
      [0xcafef00d, TYPE_FLOAT, inf, 0, 1], // non-finite values bypass the bounds
      [0xcafef00e, TYPE_FLOAT, nan, 0, 1],
      [0xfffffffe, TYPE_INTEGER, -0, -inf, inf],
      [0xfffffffd, TYPE_INTEGER, 9007199254740991, -inf, inf],
      [0xfffffffc, TYPE_INTEGER, -9007199254740991, -inf, inf],
      [0xfffffffb, TYPE_BOOLEAN, -0, -inf, inf],
    ];
    for (const [key, type, value, min, max] of specials) special(key, type, value, min, max);
    for (const [key] of specials) {
      const h = x.ls_find(key);
      check(h >= 0 && x.ls_delete(key) === OK, () => `delete special ${key}`);
      handleState[h] = 2;
    }
  }
  iterate('iterate');

  // Delete every 7th key; deleted keys are gone and their handles read as free.
  let nDeleted = 0;
  {
    const capacity = x.ls_capacity();
    for (let i = 0; i < N_KEYS; i += 7) {
      const count = x.ls_count();
      const key = keys[i]!;
      const h = handles[i]!;
      const s = x.ls_delete(key);
      print(`delete ${key} (handle ${h}) -> status ${s} ${statusName(s)}`);
      check(s === OK, () => `delete ${key}: ${s}`);
      check(x.ls_count() === count - 1, () => `delete ${key}: count ${x.ls_count()}`);
      check(x.ls_find(key) === -NOT_FOUND, () => `deleted ${key} still found`);
      check(Number.isNaN(x.ls_get(key)), () => `deleted ${key}: get`);
      check(x.ls_type_at(h) === TYPE_FREE && keyAt(h) === 0, () => `deleted handle ${h} still typed`);
      check(Number.isNaN(x.ls_value_at(h)) && Number.isNaN(x.ls_version_at(h)), () => `deleted handle ${h} still has a value`);
      check(x.ls_set(key, 1, 1) === NOT_FOUND, () => `set of deleted ${key}`);
      check(x.ls_set_at(h, 1, 1) === NOT_FOUND && x.ls_check_at(h, 1) === NOT_FOUND, () => `set_at of deleted handle ${h}`);
      check(x.ls_delete(key) === NOT_FOUND, () => `second delete of ${key}`);
      nDeleted++;
      handleState[h] = 2;
    }
    printTable('deleted');
    check(x.ls_capacity() === capacity, () => 'deletes changed the capacity');
    // Backward-shift deletion kept every other key reachable.
    for (let i = 0; i < N_KEYS; i++) {
      if (i % 7 === 0) continue;
      check(x.ls_find(keys[i]!) === handles[i], () => `after deletes, ${keys[i]} finds ${x.ls_find(keys[i]!)}`);
    }
  }
  iterate('iterate after deletes');

  // Reinsert the deleted keys: they get the freed handles back, and the table does not grow.
  {
    const capacity = x.ls_capacity();
    const rehashes = x.ls_rehash_count();
    let reused = 0;
    for (let i = 0; i < N_KEYS; i += 7) {
      const type = types[i]!;
      const key = keys[i]!;
      const value = type === TYPE_FLOAT ? i / 3 : type === TYPE_INTEGER ? -i : 1 - (i % 2);
      const min = type === TYPE_BOOLEAN ? -inf : -5000;
      const max = type === TYPE_BOOLEAN ? inf : 5000;
      const h = x.ls_insert(key, type, value, min, max, 0, 5000 + i);
      print(`reinsert ${key} ${typeName(type)} ${F(value)} -> ${insertResult(h)}`);
      check(h >= 0 && h < MAX_HANDLES && handleState[h] === 2, () => `reinsert ${key} got handle ${h}, not a freed one`);
      handleState[h] = 1;
      handles[i] = h;
      reused++;
      check(same(x.ls_get(key), stored(type, value)) && x.ls_version_at(h) === 0, () => `reinserted ${key} reads back`);
    }
    printTable('reinserted');
    check(reused === nDeleted, () => `reused ${reused} of ${nDeleted} handles`);
    check(x.ls_capacity() === capacity && x.ls_rehash_count() === rehashes, () => 'reinserting grew the table');
    check(x.ls_count() === N_KEYS, () => `count after reinsert: ${x.ls_count()}`);
  }
  iterate('iterate after reinsert');

  // ls_reserve grows once; handles stay valid; past the memory cap nothing changes.
  {
    let s = x.ls_reserve(-1);
    print(`reserve -1 -> status ${s} ${statusName(s)}`);
    check(s === INVALID_ARGUMENT, () => `reserve -1: ${s}`);
    let rehashes = x.ls_rehash_count();
    let capacity = x.ls_capacity();
    s = x.ls_reserve(0);
    print(`reserve 0 -> status ${s} ${statusName(s)}`);
    check(s === OK && x.ls_capacity() === capacity && x.ls_rehash_count() === rehashes, () => 'reserve 0 changed the table');
    const base = x.ls_entries_base();
    s = x.ls_reserve(2000);
    printTable('reserve 2000 ->');
    print(`entries_base ${base} -> ${x.ls_entries_base()}`);
    check(s === OK, () => `reserve 2000: ${s}`);
    check(x.ls_entry_capacity() >= x.ls_count() + 2000, () => `reserve 2000: entry capacity ${x.ls_entry_capacity()}`);
    check(x.ls_rehash_count() === rehashes + 1, () => `reserve grew ${x.ls_rehash_count() - rehashes} times`);
    for (let i = 0; i < N_KEYS; i++) check(x.ls_find(keys[i]!) === handles[i], () => `after reserve, ${keys[i]} moved`);

    capacity = x.ls_capacity();
    rehashes = x.ls_rehash_count();
    const beforePages = pages();
    const count = x.ls_count();
    s = x.ls_reserve(1000000);
    print(`reserve 1000000 -> status ${s} ${statusName(s)}`);
    printTable('after refused reserve');
    check(s === OUT_OF_MEMORY, () => `reserve past the cap: ${s}`);
    check(
      x.ls_capacity() === capacity && x.ls_rehash_count() === rehashes && x.ls_count() === count && pages() === beforePages,
      () => 'a refused reserve changed the table',
    );
  }

  // A batch (ls_batch_area + ls_set_batch): all or nothing, a status per item. Keys 3, 4, 5 are float, integer, boolean.
  {
    const [h3, h4, h5] = [3, 4, 5].map((i) => x.ls_find(keys[i]!)) as [number, number, number];
    const [v3, v4, v5] = [h3, h4, h5].map((h) => x.ls_value_at(h)) as [number, number, number];
    const [r3, r4, r5] = [h3, h4, h5].map((h) => x.ls_version_at(h)) as [number, number, number];
    const area = x.ls_batch_area(4);
    print(`batch_area 4 -> ${area}`);
    check(area === BATCH_BASE, () => `batch area ${area}, expected the fixed area ${BATCH_BASE}`);
    const itemHandles = [h3, h4, h5, h3];
    const itemValues = [
      [12.5, 99, 2, 300],
      [12.5, 99, 1, -0],
    ];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) {
        memSetF64(area + i * BATCH_ITEM_SIZE + BATCH_VALUE, itemValues[round]![i]!);
        memSetI32(area + i * BATCH_ITEM_SIZE + BATCH_HANDLE, itemHandles[i]!);
      }
      const failures = x.ls_set_batch(area, 4, 7000 + round, 1);
      const statuses = [0, 1, 2, 3].map((i) => statusName(memU32(area + i * BATCH_ITEM_SIZE + BATCH_STATUS)));
      print(`set_batch round ${round} -> ${failures} failing: ${statuses.join(' ')}`);
      print(
        `  values ${F(x.ls_value_at(h3))} ${F(x.ls_value_at(h4))} ${F(x.ls_value_at(h5))} versions ${F(x.ls_version_at(h3))} ${F(x.ls_version_at(h4))} ${F(x.ls_version_at(h5))}`,
      );
      if (round === 0) {
        check(failures === 2, () => `round 0: ${failures} failing`);
        check(
          same(x.ls_value_at(h3), v3) && same(x.ls_value_at(h4), v4) && same(x.ls_value_at(h5), v5),
          () => 'a failed batch changed a value',
        );
        check(
          x.ls_version_at(h3) === r3 && x.ls_version_at(h4) === r4 && x.ls_version_at(h5) === r5,
          () => 'a failed batch changed a version',
        );
      } else {
        check(failures === 0, () => `round 1: ${failures} failing`);
        check(same(x.ls_value_at(h3), -0) && x.ls_value_at(h4) === 99 && x.ls_value_at(h5) === 1, () => 'round 1 values');
        check(x.ls_version_at(h3) === r3 + 2 && x.ls_version_at(h4) === r4 + 1 && x.ls_version_at(h5) === r5 + 1, () => 'round 1 versions');
        check(memF64(area + 3 * BATCH_ITEM_SIZE + BATCH_VERSION) === r3 + 2, () => "the last item's new version");
        check(x.ls_updated_at(h4) === 7001, () => 'round 1 time');
      }
    }
  }

  // Direct reads of memory agree with the exports.
  {
    let n = 0;
    for (let h = x.ls_next(0); h >= 0; h = x.ls_next(h + 1)) {
      const address = x.ls_entries_base() + h * ENTRY_SIZE;
      check(same(memF64(address + ENTRY_VALUE), x.ls_value_at(h)), () => `memory value of ${h}`);
      check(same(memF64(address + ENTRY_VERSION), x.ls_version_at(h)), () => `memory version of ${h}`);
      n++;
    }
    const headerCount = memU32(HEADER_BASE + HEADER_COUNT);
    print(
      `memory pages ${pages()} entries_base ${x.ls_entries_base()} header count ${headerCount} magic ${memU32(HEADER_BASE + HEADER_MAGIC) === MAGIC ? 'ok' : 'bad'}`,
    );
    check(headerCount === x.ls_count() && n === x.ls_count(), () => `header count ${headerCount}`);
    check(memU32(HEADER_BASE + HEADER_MAGIC) === MAGIC, () => 'header magic');
  }

  // ls_init resets the table.
  {
    const s = x.ls_init(0, 0);
    printTable('init 0 0 ->');
    check(s === OK && x.ls_count() === 0 && x.ls_rehash_count() === 0, () => `reset: ${s}`);
    check(x.ls_find(keys[1]!) === -NOT_FOUND && x.ls_next(0) === -1, () => 'reset left entries');
  }

  print(`ok ${checks} checks`);
  return lines;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(`${runScenario().join('\n')}\n`);
}
