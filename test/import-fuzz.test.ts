// Import fuzzing, in the way Redis fuzzes its dump format: take valid
// snapshots, corrupt them with structured mutations (a random path in the
// JSON tree: delete, duplicate, retype, swap, rename keys, change id suffixes,
// break the index, huge strings, deep nesting, wrong versions, "__proto__"
// keys, catastrophic patterns with values that would stall a backtracking
// engine) and a few mutations of the JSON text that still parses, then import
// each one into a store that may already hold colliding names.
//
// Every outcome must be either a successful import that satisfies every
// invariant, or a StateError invalid_export / already_exists with the store
// unchanged. Never another exception, never a partial import, never a
// polluted prototype. Deterministic: a seeded PRNG drives everything.
//
//   FUZZ_PAYLOADS=20000 FUZZ_SEED=7 npx vitest run test/import-fuzz.test.ts

import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsLocalState, LocalState, StateError, type VariableInfo } from '../dist/index.js';
import type { Factory, Store } from './conformance/backend.js';
import { richStore } from './conformance/snapshot.js';

/** Corrupted payloads per backend (the issue asks for at least 5,000 in CI). */
const PAYLOADS = Number(process.env.FUZZ_PAYLOADS ?? 5000);
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);

// ─── JSON trees ─────────────────────────────────────────────────────────────

type Json = null | boolean | number | string | Json[] | JsonObject;
interface JsonObject {
  [key: string]: Json;
}
type Container = Json[] | JsonObject;

function isObject(value: Json | undefined): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Sets an own data property, even for "__proto__" (plain assignment would set the prototype). */
function setOwn(target: JsonObject, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function getOwn(target: Container, key: string | number): Json | undefined {
  if (Array.isArray(target)) return target[key as number];
  return Object.hasOwn(target, key) ? target[key as string] : undefined;
}

function setAt(target: Container, key: string | number, value: Json): void {
  if (Array.isArray(target)) target[key as number] = value;
  else setOwn(target, String(key), value);
}

function deleteAt(target: Container, key: string | number): void {
  if (Array.isArray(target)) target.splice(key as number, 1);
  else delete target[key as string];
}

/** Rebuilds an object's keys in order, renaming `from` to `to` (an existing `to` is replaced in place). */
function renameKey(target: JsonObject, from: string, to: string): void {
  const entries = Object.keys(target).map((key) => [key, target[key] as Json] as const);
  for (const [key] of entries) delete target[key];
  for (const [key, value] of entries) {
    if (key === to && from !== to) continue;
    setOwn(target, key === from ? to : key, value);
  }
}

const clone = (value: Json): Json => JSON.parse(JSON.stringify(value)) as Json;

/** One place in the tree: `parent[key]`, with its path from the root. */
interface Location {
  readonly parent: Container;
  readonly key: string | number;
  readonly path: ReadonlyArray<string | number>;
}

function locations(root: Json): Location[] {
  const out: Location[] = [];
  const stack: Array<[Container, Array<string | number>]> = [];
  if (root !== null && typeof root === 'object') stack.push([root, []]);
  while (stack.length > 0 && out.length < 5000) {
    const [container, path] = stack.pop() as [Container, Array<string | number>];
    const keys: Array<string | number> = Array.isArray(container) ? container.map((_, i) => i) : Object.keys(container);
    for (const key of keys) {
      const childPath = [...path, key];
      out.push({ parent: container, key, path: childPath });
      const child = getOwn(container, key);
      if (child !== null && child !== undefined && typeof child === 'object') stack.push([child, childPath]);
    }
  }
  return out;
}

const isPrefix = (a: ReadonlyArray<string | number>, b: ReadonlyArray<string | number>) =>
  a.length <= b.length && a.every((part, i) => part === b[i]);

// ─── seeded randomness ──────────────────────────────────────────────────────

class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)] as T;
  }
}

// ─── values the mutations use ───────────────────────────────────────────────

const HUGE = 'x'.repeat(1 << 20); // 1 MiB
// Inserted as text after JSON.stringify, so building the payload never recurses 10,000 levels.
const DEEP_ARRAY = '@@deep-array@@';
const DEEP_OBJECT = '@@deep-object@@';
const DEPTH = 10_000;
const DEEP_ARRAY_TEXT = `${'['.repeat(DEPTH)}1${']'.repeat(DEPTH)}`;
const DEEP_OBJECT_TEXT = `${'{"a":'.repeat(DEPTH)}null${'}'.repeat(DEPTH)}`;
// Patterns that take a backtracking engine exponential or polynomial time on HUGE, on STALL, or on both.
const CATASTROPHIC_PATTERNS: readonly Json[] = [
  { regexp: '^(x+x+)+y$', flags: '' },
  { regexp: '^(a|aa)+$', flags: 'i' },
  '^(\\w+\\s?)*$',
  '\\s*\\s*$',
  { regexp: '^(.*x){12}$', flags: 's' },
  { regexp: '(a)\\1', flags: '' }, // refused: a backreference
  { regexp: 'x(?=y)', flags: 'g' }, // refused: a lookahead
];
const STALL = `${'a'.repeat(40)}!`;

const NUMBERS: readonly number[] = [
  0,
  1,
  -1,
  0.5,
  1.5,
  0.7,
  2,
  4096,
  4097,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER - 1,
  -(2 ** 53),
  1e308,
  -1e308,
  5e-324,
  1795864217021,
];
const STRINGS: readonly string[] = [
  '',
  'x',
  'NaN',
  '-0',
  'Infinity',
  '-Infinity',
  'true',
  'false',
  '1',
  '0.5',
  'float',
  'integer',
  'boolean',
  'string',
  'tensor',
  'embedding',
  'choice',
  'module',
  'double',
  'localstate',
  'Predict',
  'greedy',
  '__proto__',
  'constructor',
  'var_temperature_1',
  '👍🏽',
  'e\u0301',
];
const OBJECTS: ReadonlyArray<() => Json> = [
  () => ({}),
  () => ({ min: 0 }),
  () => ({ min: 2, max: 1 }),
  () => ({ shape: [1], data: [1] }),
  () => ({ shape: [2, 1], data: [['-0'], [2]] }),
  () => ({ regexp: '^a', flags: 'g' }),
  () => ({ pattern: { regexp: '[', flags: '' } }),
  () => ({ pattern: { regexp: '^(a+)+$', flags: '' } }),
  () => ({ polluted: 'yes' }),
  () => ({ choices: ['a'] }),
  () => ({ dimensions: 3 }),
];
const ARRAYS: ReadonlyArray<() => Json> = [
  () => [],
  () => [1, 2, 3],
  () => ['NaN'],
  () => ['-0', 1e-300, 2],
  () => [[1], [2]],
  () => ['a'],
];

function randomValue(rng: Rng): Json {
  const r = rng.next();
  if (r < 0.3) return rng.pick(NUMBERS);
  if (r < 0.55) return rng.pick(STRINGS);
  if (r < 0.65) return rng.pick(ARRAYS)();
  if (r < 0.77) return rng.pick(OBJECTS)();
  if (r < 0.83) return null;
  if (r < 0.89) return rng.chance(0.5);
  if (r < 0.93) return HUGE;
  if (r < 0.965) return DEEP_ARRAY;
  return DEEP_OBJECT;
}

const KEYS: readonly string[] = [
  'id',
  'name',
  'type',
  'value',
  'constraints',
  'metadata',
  'version',
  'createdAt',
  'lastUpdatedAt',
  'format',
  'formatVersion',
  'sessionId',
  'variables',
  'variableIndex',
  'stats',
  'min',
  'max',
  'pattern',
  'shape',
  'data',
  'x',
  '',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '__proto__',
];

const SUFFIXES: readonly string[] = [
  '0',
  '1',
  '2',
  '3',
  '17',
  '00',
  '01',
  '007',
  '',
  'x',
  '-1',
  '1.5',
  '1e3',
  ' 1',
  '1_2',
  '9999999999999999',
  '99999999999999999',
  '9007199254740992',
  // Serials near the top: importing them must not break id generation afterwards.
  '9007199254740991',
  '9007199254740990',
  '4503599627370496',
  '4503599627370497',
];

const NAMES: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'temperature',
  'keep',
  'note',
  'a_1',
  'var_x_1',
  '10',
  '名前',
  '👍🏽',
  'a b/c.d',
  '',
];

// ─── the payload being built ────────────────────────────────────────────────

interface Draft {
  readonly rng: Rng;
  root: Json;
  /** Raw JSON text to substitute for sentinel keys: `"@@key-n@@"` → text. */
  readonly keyTexts: Map<string, string>;
  /** Text-level edits, applied in order after stringify; each returns undefined when it does not apply. */
  readonly textEdits: Array<[string, (text: string) => string | undefined]>;
  /** Ids and names of the target store (for collisions). */
  readonly targetNames: readonly string[];
}

function variablesOf(draft: Draft): JsonObject | undefined {
  if (!isObject(draft.root)) return undefined;
  const variables = getOwn(draft.root, 'variables');
  return isObject(variables) ? variables : undefined;
}

function indexOf(draft: Draft): JsonObject | undefined {
  if (!isObject(draft.root)) return undefined;
  const index = getOwn(draft.root, 'variableIndex');
  return isObject(index) ? index : undefined;
}

/** A variable of the draft that still has the well-formed id var_<name>_<n>, with its parts. */
function pickVariable(draft: Draft): { id: string; record: JsonObject; name: string; suffix: string } | undefined {
  const variables = variablesOf(draft);
  if (!variables) return undefined;
  const candidates = Object.keys(variables).flatMap((id) => {
    const record = variables[id];
    if (!isObject(record)) return [];
    const name = getOwn(record, 'name');
    if (typeof name !== 'string' || !id.startsWith(`var_${name}_`)) return [];
    return [{ id, record, name, suffix: id.slice(`var_${name}_`.length) }];
  });
  return candidates.length > 0 ? draft.rng.pick(candidates) : undefined;
}

/** Locations biased towards where defects matter: variables' fields, the index, the envelope. */
function pickLocation(draft: Draft): Location | undefined {
  const all = locations(draft.root);
  if (all.length === 0) return undefined;
  const r = draft.rng.next();
  let pool = all;
  if (r < 0.5) pool = all.filter((l) => l.path[0] === 'variables' && l.path.length >= 3);
  else if (r < 0.65) pool = all.filter((l) => l.path[0] === 'variableIndex');
  else if (r < 0.75) pool = all.filter((l) => l.path.length === 1);
  return draft.rng.pick(pool.length > 0 ? pool : all);
}

function randomObject(draft: Draft): JsonObject | undefined {
  const objects: JsonObject[] = isObject(draft.root) ? [draft.root] : [];
  for (const location of locations(draft.root)) {
    const value = getOwn(location.parent, location.key);
    if (isObject(value)) objects.push(value);
  }
  return objects.length > 0 ? draft.rng.pick(objects) : undefined;
}

const describePath = (path: ReadonlyArray<string | number>) => path.map((p) => short(String(p), 40)).join('.');

function short(text: string, max = 120): string {
  return text.length > max ? `${text.slice(0, max)}…(${text.length} chars)` : text;
}

function describeJson(value: Json): string {
  if (value === HUGE) return '<1 MiB string>';
  if (value === DEEP_ARRAY) return `<array nested ${DEPTH} deep>`;
  if (value === DEEP_OBJECT) return `<object nested ${DEPTH} deep>`;
  return short(JSON.stringify(value), 60);
}

/** A mutation: changes the draft and describes what it did, or returns undefined when it does not apply. */
type Mutation = (draft: Draft) => string | undefined;

const renameVariable = (draft: Draft, id: string, record: JsonObject, name: string, newName: string, suffix: string): string => {
  const newId = `var_${newName}_${suffix}`;
  const variables = variablesOf(draft) as JsonObject;
  setOwn(record, 'id', newId);
  setOwn(record, 'name', newName);
  renameKey(variables, id, newId);
  const index = indexOf(draft);
  if (index && Object.hasOwn(index, name)) {
    setOwn(index, name, newId);
    renameKey(index, name, newName);
  }
  return newId;
};

const MUTATIONS: ReadonlyArray<readonly [string, number, Mutation]> = [
  [
    'delete',
    10,
    (d) => {
      const at = pickLocation(d);
      if (!at) return undefined;
      deleteAt(at.parent, at.key);
      return `delete ${describePath(at.path)}`;
    },
  ],
  [
    'duplicate',
    6,
    (d) => {
      const from = pickLocation(d);
      if (!from) return undefined;
      const value = clone(getOwn(from.parent, from.key) as Json);
      if (d.rng.chance(0.5)) {
        const target = randomObject(d);
        if (!target) return undefined;
        const key = d.rng.chance(0.5) ? d.rng.pick(KEYS) : d.rng.pick([...Object.keys(target), 'copy']);
        setOwn(target, key, value);
        return `duplicate ${describePath(from.path)} into key ${JSON.stringify(short(key, 40))} of an object`;
      }
      const to = pickLocation(d);
      if (!to || isPrefix(to.path, from.path) || isPrefix(from.path, to.path)) return undefined;
      setAt(to.parent, to.key, value);
      return `duplicate ${describePath(from.path)} over ${describePath(to.path)}`;
    },
  ],
  [
    'retype',
    14,
    (d) => {
      const at = pickLocation(d);
      if (!at) return undefined;
      const value = randomValue(d.rng);
      setAt(at.parent, at.key, value);
      return `set ${describePath(at.path)} = ${describeJson(value)}`;
    },
  ],
  [
    'swap',
    5,
    (d) => {
      const a = pickLocation(d);
      const b = pickLocation(d);
      if (!a || !b || isPrefix(a.path, b.path) || isPrefix(b.path, a.path)) return undefined;
      const va = getOwn(a.parent, a.key) as Json;
      const vb = getOwn(b.parent, b.key) as Json;
      setAt(a.parent, a.key, vb);
      setAt(b.parent, b.key, va);
      return `swap ${describePath(a.path)} <-> ${describePath(b.path)}`;
    },
  ],
  [
    'rename-key',
    6,
    (d) => {
      const at = pickLocation(d);
      if (!at || Array.isArray(at.parent)) return undefined;
      const siblings = Object.keys(at.parent);
      const to = d.rng.chance(0.3) ? d.rng.pick(siblings) : d.rng.chance(0.97) ? d.rng.pick(KEYS) : HUGE;
      if (to === at.key) return undefined;
      renameKey(at.parent, String(at.key), to);
      return `rename key ${describePath(at.path)} -> ${JSON.stringify(short(to, 40))}`;
    },
  ],
  [
    'id-suffix',
    8,
    (d) => {
      const v = pickVariable(d);
      if (!v) return undefined;
      const suffix = d.rng.pick(SUFFIXES);
      if (suffix === v.suffix) return undefined;
      const newId = `var_${v.name}_${suffix}`;
      const mode = d.rng.pick(['consistent', 'consistent', 'id', 'key', 'index'] as const);
      const variables = variablesOf(d) as JsonObject;
      const index = indexOf(d);
      if (mode === 'consistent' || mode === 'id') setOwn(v.record, 'id', newId);
      if (mode === 'consistent' || mode === 'key') renameKey(variables, v.id, newId);
      if ((mode === 'consistent' || mode === 'index') && index && Object.hasOwn(index, v.name)) setOwn(index, v.name, newId);
      return `id suffix of ${short(v.id, 40)} -> ${JSON.stringify(suffix)} (${mode})`;
    },
  ],
  [
    'rename-variable',
    8,
    (d) => {
      const v = pickVariable(d);
      if (!v) return undefined;
      const variables = variablesOf(d) as JsonObject;
      const pool = [...NAMES, ...d.targetNames, ...Object.keys(variables), `${v.name}_2`];
      const newName = d.rng.chance(0.02) ? HUGE : d.rng.pick(pool);
      if (newName === v.name) return undefined;
      if (d.rng.chance(0.8)) {
        const newId = renameVariable(d, v.id, v.record, v.name, newName, v.suffix);
        return `rename variable ${short(v.id, 40)} -> name ${JSON.stringify(short(newName, 40))}, id ${short(newId, 60)} (consistent)`;
      }
      setOwn(v.record, 'name', newName);
      return `rename variable ${short(v.id, 40)} -> name ${JSON.stringify(short(newName, 40))} (name only)`;
    },
  ],
  [
    'remove-variable',
    3,
    (d) => {
      const v = pickVariable(d);
      if (!v) return undefined;
      delete (variablesOf(d) as JsonObject)[v.id];
      const index = indexOf(d);
      if (index) delete index[v.name];
      return `remove variable ${short(v.id, 40)} (consistent)`;
    },
  ],
  [
    'index',
    6,
    (d) => {
      const index = indexOf(d);
      const variables = variablesOf(d);
      if (!index || !variables) return undefined;
      const names = Object.keys(index);
      const ids = Object.keys(variables);
      const kind = d.rng.int(6);
      if (kind === 0 && names.length >= 2) {
        const [a, b] = [d.rng.pick(names), d.rng.pick(names)];
        if (a === b) return undefined;
        const va = index[a] as Json;
        setOwn(index, a, index[b] as Json);
        setOwn(index, b, va);
        return `index: swap the ids of ${short(a, 40)} and ${short(b, 40)}`;
      }
      if (kind === 1 && names.length > 0) {
        const name = d.rng.pick(names);
        setOwn(index, name, d.rng.pick([...ids, 'var_ghost_1', '']));
        return `index: point ${short(name, 40)} elsewhere`;
      }
      if (kind === 2) {
        const name = d.rng.pick([...NAMES, 'ghost']);
        setOwn(index, name, ids.length > 0 ? d.rng.pick(ids) : 'var_ghost_1');
        return `index: add ${JSON.stringify(short(name, 40))}`;
      }
      if (kind === 3 && names.length > 0) {
        const name = d.rng.pick(names);
        delete index[name];
        return `index: drop ${short(name, 40)}`;
      }
      if (kind === 4 && names.length > 0) {
        const name = d.rng.pick(names);
        setOwn(index, name, randomValue(d.rng));
        return `index: retype ${short(name, 40)}`;
      }
      if (kind === 5 && names.length >= 2) {
        // Same pairs, another order: valid.
        const entries = names.map((name) => [name, index[name] as Json] as const).reverse();
        for (const name of names) delete index[name];
        for (const [name, id] of entries) setOwn(index, name, id);
        return 'index: reverse the order (valid)';
      }
      return undefined;
    },
  ],
  [
    'envelope',
    6,
    (d) => {
      if (!isObject(d.root)) return undefined;
      const [key, values] = d.rng.pick<[string, Json[]]>([
        ['formatVersion', [0, 2, '1', 1.5, -1, null, 1e308, true]],
        ['format', ['LocalState', '', 'localstate ', 'redis', null]],
        ['sessionId', ['', 'other', HUGE, 5, null, '__proto__']],
        ['metadata', [null, [], 'x', DEEP_ARRAY, DEEP_OBJECT, { backend: 'other' }]],
        ['stats', [null, { variableCount: -1 }, DEEP_ARRAY, 'x']],
      ]);
      const value = clone(d.rng.pick(values));
      setOwn(d.root, key, value);
      return `envelope ${key} = ${describeJson(value)}`;
    },
  ],
  [
    'flip',
    6,
    (d) => {
      const primitives = locations(d.root).filter((l) => {
        const value = getOwn(l.parent, l.key);
        return value !== null && typeof value !== 'object' && value !== HUGE;
      });
      if (primitives.length === 0) return undefined;
      const at = d.rng.pick(primitives);
      const value = getOwn(at.parent, at.key) as Json;
      let next: Json;
      if (typeof value === 'number') next = d.rng.pick([-value, value + 1, value * 1e300, value / 3, 'NaN', '-0', String(value)]);
      else if (typeof value === 'boolean') next = d.rng.chance(0.5) ? !value : String(value);
      else if (typeof value === 'string') next = d.rng.pick([`${value}z`, value.toUpperCase(), value.slice(1), Number(value) || 0, '']);
      else return undefined;
      setAt(at.parent, at.key, next);
      return `flip ${describePath(at.path)}: ${describeJson(value)} -> ${describeJson(next)}`;
    },
  ],
  [
    'field',
    8,
    (d) => {
      const v = pickVariable(d);
      if (!v) return undefined;
      const field = d.rng.pick(['version', 'createdAt', 'lastUpdatedAt', 'value', 'value', 'type', 'constraints', 'metadata'] as const);
      const pools: Record<typeof field, readonly Json[]> = {
        version: [0, 5, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, -1, 1.5, 2 ** 53, 'NaN', '-0', '5', null],
        createdAt: [0, -1, 1.5, 1e308, 'NaN', 'Infinity', '0', null],
        lastUpdatedAt: [0, -1, 1.5, 1e308, 'NaN', '-Infinity', '0', null],
        value: [
          'NaN',
          '-0',
          'Infinity',
          '-Infinity',
          0,
          1,
          0.5,
          2,
          -1,
          true,
          'true',
          'Predict',
          'ChainOfThought',
          'beam',
          'Be precise.',
          'lower case',
          [],
          ['NaN'],
          ['-0', 1, 2],
          [0.5, '-0', 1e-300],
          { shape: [2, 1], data: [[1], [2]] },
          { shape: [0], data: [] },
          { shape: [], data: '-0' },
          { shape: [2], data: [1] },
          { shape: [1, 1], data: [[DEEP_ARRAY]] },
          HUGE,
          STALL,
        ],
        type: ['float', 'integer', 'boolean', 'string', 'choice', 'module', 'embedding', 'tensor', 'Float', 'double'],
        constraints: [
          {},
          null,
          { min: 0 },
          { max: -1 },
          { min: 0, max: 'NaN' },
          { maxLength: 0 },
          { pattern: { regexp: '^[A-Z]', flags: 'gi' } },
          { pattern: { regexp: '(', flags: '' } },
          { pattern: { regexp: 'a', flags: 'q' } },
          { pattern: 'x', enum: [] },
          { choices: ['greedy'] },
          { allowedModules: [] },
          { dimensions: 2 },
          { shape: [2, 1] },
          { shape: [DEEP_ARRAY] },
          JSON.parse('{"__proto__":null}') as Json,
          ...CATASTROPHIC_PATTERNS.map((pattern) => ({ pattern })),
        ],
        metadata: [
          {},
          [],
          null,
          'x',
          { a: DEEP_ARRAY },
          { nested: { deep: [1, { x: null }] } },
          JSON.parse('{"__proto__":{"polluted":"yes"}}'),
        ],
      };
      const value = clone(d.rng.pick(pools[field]));
      setOwn(v.record, field, value);
      return `variables.${short(v.id, 40)}.${field} = ${describeJson(value)}`;
    },
  ],
  [
    'catastrophic',
    4,
    (d) => {
      // A string variable given a catastrophic pattern and a value that stalls a backtracking engine (or matches).
      const variables = variablesOf(d);
      const strings = variables ? Object.keys(variables).filter((id) => getOwn(variables[id] as Container, 'type') === 'string') : [];
      if (!variables || strings.length === 0) return undefined;
      const id = d.rng.pick(strings);
      const pattern = clone(d.rng.pick(CATASTROPHIC_PATTERNS));
      const value = d.rng.pick([HUGE, STALL, `${'x'.repeat(30)}y`, 'a'.repeat(30)]);
      setOwn(variables[id] as JsonObject, 'constraints', { pattern });
      setOwn(variables[id] as JsonObject, 'value', value);
      return `variables.${short(id, 40)}: pattern ${describeJson(pattern)}, value ${describeJson(value)}`;
    },
  ],
  [
    'proto-key',
    6,
    (d) => {
      const target = randomObject(d);
      if (!target) return undefined;
      const key = d.rng.pick(['__proto__', '__proto__', 'constructor', 'prototype']);
      const value = d.rng.pick<() => Json>([
        () => ({ polluted: 'yes', isAdmin: true }),
        () => ({ prototype: { polluted: 'yes' } }),
        () => [],
        () => null,
        () => 1,
        () => 'x',
      ])();
      setOwn(target, key, value);
      return `add own key ${key} = ${describeJson(value)} to an object`;
    },
  ],
  [
    'text-key',
    4,
    (d) => {
      // A key written straight into the JSON text: duplicates (last one wins), escaped "__proto__".
      const target = randomObject(d);
      if (!target) return undefined;
      const sentinel = `@@key-${d.keyTexts.size}@@`;
      const siblings = Object.keys(target);
      const raw = d.rng.pick([
        '"__proto__"',
        '"\\u005f_proto__"',
        '"__pro\\u0074o__"',
        '"constructor"',
        '"prototype"',
        ...siblings.map((key) => JSON.stringify(key)),
      ]);
      d.keyTexts.set(sentinel, raw);
      const value = d.rng.chance(0.5) ? { polluted: 'yes' } : randomValue(d.rng);
      setOwn(target, sentinel, value);
      return `text: add key ${short(raw, 40)} = ${describeJson(value)} (JSON text)`;
    },
  ],
  [
    'text-number',
    4,
    (d) => {
      const replacement = d.rng.pick(['-0', '1e400', '-1e400', '1e-400', '9007199254740993', '1E0', '-0.0', '0.10e1']);
      const pick = d.rng.next();
      d.textEdits.push([
        `text-number: a number token -> ${replacement}`,
        (text) => {
          const tokens = numberTokens(text);
          if (tokens.length === 0) return undefined;
          const [start, end] = tokens[Math.floor(pick * tokens.length)] as [number, number];
          return text.slice(0, start) + replacement + text.slice(end);
        },
      ]);
      return '';
    },
  ],
  [
    'text-escape',
    1,
    (d) => {
      const pick = d.rng.next();
      d.textEdits.push([
        'text-escape: \\u-escape a letter in a string token (same value)',
        (text) => {
          const positions: number[] = [];
          for (let i = text.indexOf('"'); i >= 0 && positions.length < 10_000; i = text.indexOf('"', i + 1)) positions.push(i);
          const at = positions[Math.floor(pick * positions.length)];
          if (at === undefined || !/[a-z]/.test(text[at + 1] ?? '')) return undefined;
          const escaped = `\\u${(text.charCodeAt(at + 1) as number).toString(16).padStart(4, '0')}`;
          return `${text.slice(0, at + 1)}${escaped}${text.slice(at + 2)}`;
        },
      ]);
      return '';
    },
  ],
];

const TOTAL_WEIGHT = MUTATIONS.reduce((sum, [, weight]) => sum + weight, 0);

/** [start, end) of each number token outside strings. */
function numberTokens(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 /* \ */ ? 2 : 1;
      i++;
    } else if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < text.length && /[0-9eE.+-]/.test(text[i] as string)) i++;
      out.push([start, i]);
    } else i++;
  }
  return out;
}

function pickMutation(rng: Rng): readonly [string, number, Mutation] {
  let r = rng.next() * TOTAL_WEIGHT;
  for (const mutation of MUTATIONS) {
    r -= mutation[1];
    if (r < 0) return mutation;
  }
  return MUTATIONS[0] as readonly [string, number, Mutation];
}

/** Applies the sentinels and text edits; returns the text and the edits that applied (undefined text: unparseable, skipped). */
function render(draft: Draft): { text: string; applied: string[] } {
  let text = JSON.stringify(draft.root);
  for (const [sentinel, raw] of draft.keyTexts) text = text.replace(JSON.stringify(sentinel), raw);
  text = text.replaceAll(JSON.stringify(DEEP_ARRAY), DEEP_ARRAY_TEXT).replaceAll(JSON.stringify(DEEP_OBJECT), DEEP_OBJECT_TEXT);
  const applied: string[] = [];
  for (const [label, edit] of draft.textEdits) {
    const next = edit(text);
    if (next === undefined || next === text) continue;
    try {
      JSON.parse(next);
    } catch {
      continue; // text that does not parse tests JSON.parse, not the import
    }
    text = next;
    applied.push(label);
  }
  return { text, applied };
}

interface Payload {
  readonly text: string;
  readonly log: readonly string[];
  /** The mutation kinds that applied. */
  readonly kinds: readonly string[];
}

function corrupt(rng: Rng, baseText: string, targetNames: readonly string[]): Payload {
  for (;;) {
    const draft: Draft = { rng, root: JSON.parse(baseText) as Json, keyTexts: new Map(), textEdits: [], targetNames };
    const log: string[] = [];
    const kinds: string[] = [];
    const count = 1 + (rng.chance(0.5) ? 0 : rng.int(3));
    for (let attempts = 0; log.length + draft.textEdits.length < count && attempts < 20; attempts++) {
      const [kind, , mutate] = pickMutation(rng);
      const done = mutate(draft);
      if (done) {
        log.push(done);
        kinds.push(kind);
      }
    }
    const { text, applied } = render(draft);
    if (text !== baseText)
      return { text, log: [...log, ...applied], kinds: [...kinds, ...applied.map((label) => label.split(':')[0] as string)] };
  }
}

// ─── the oracle ─────────────────────────────────────────────────────────────

const SPECIAL: Readonly<Record<string, number>> = { NaN: Number.NaN, Infinity: Infinity, '-Infinity': -Infinity, '-0': -0 };
const decodeNumber = (raw: unknown): number => (typeof raw === 'number' ? raw : (SPECIAL[raw as string] as number));
const decodeNested = (raw: unknown): unknown => (Array.isArray(raw) ? raw.map(decodeNested) : decodeNumber(raw));

/** What the store must hand out for an accepted payload value (written independently of src/). */
function expectedValue(type: string, raw: unknown): unknown {
  switch (type) {
    case 'float':
      return decodeNumber(raw);
    case 'integer':
      return (raw as number) + 0;
    case 'embedding':
      return (raw as unknown[]).map(decodeNumber);
    case 'tensor': {
      const tensor = raw as { shape: number[]; data: unknown };
      return { shape: [...tensor.shape], data: decodeNested(tensor.data) };
    }
    default:
      return raw;
  }
}

/** Deep equality with Object.is on numbers (NaN equals NaN, -0 differs from 0); ignores frozenness. */
function sameValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' || typeof b === 'number') return Object.is(a, b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return (
      ka.length === kb.length &&
      ka.every((k) => Object.hasOwn(b, k) && sameValue((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
    );
  }
  return a === b;
}

/** -0 made +0 in numbers, arrays and plain objects (a RegExp is kept as it is). */
function positiveZero(value: unknown): unknown {
  if (typeof value === 'number') return value + 0;
  if (Array.isArray(value)) return value.map(positiveZero);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, positiveZero(v)]));
  }
  return value;
}

/**
 * A listing with -0 made +0 where JSON cannot carry it and it means the same:
 * version, times, constraint numbers (min: -0 and min: 0 accept the same values) and metadata
 * (plain JSON data: a -0 in it reads back as 0, as JSON.parse(JSON.stringify(-0)) does).
 */
const normalized = (list: VariableInfo[]) =>
  list.map((v) => ({
    ...v,
    constraints: positiveZero(v.constraints),
    metadata: positiveZero(v.metadata),
    version: v.version + 0,
    createdAt: v.createdAt + 0,
    lastUpdatedAt: v.lastUpdatedAt + 0,
  }));

function observe(store: Store<'sync'>): { list: VariableInfo[]; stats: Record<string, number> } {
  return { list: store.listVariables(), stats: { ...store.stats() } as unknown as Record<string, number> };
}

const PROTOTYPES: ReadonlyArray<[string, object]> = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
];
const protoKeys = () => PROTOTYPES.map(([name, proto]) => `${name}: ${Reflect.ownKeys(proto).map(String).sort().join(',')}`);
const BASELINE_PROTO_KEYS = protoKeys();

function pollution(): string | undefined {
  const probe = {} as Record<string, unknown>;
  for (const key of ['polluted', 'isAdmin', 'x', 'a']) {
    if (probe[key] !== undefined || ([] as unknown as Record<string, unknown>)[key] !== undefined) return `({}).${key} is defined`;
  }
  if (Object.getPrototypeOf(probe) !== Object.prototype) return 'the prototype of {} changed';
  const now = protoKeys();
  if (!isDeepStrictEqual(now, BASELINE_PROTO_KEYS)) return `prototype keys changed: ${now.join(' | ')}`;
  return undefined;
}

// ─── one payload ────────────────────────────────────────────────────────────

interface Tally {
  backend: string;
  payloads: number;
  accepted: number;
  invalid_export: number;
  already_exists: number;
  viaInit: number;
  acceptedWithHugeOrDeep: number;
  mutationKinds: Map<string, number>;
  rejectedAt: Map<string, number>;
  violations: string[];
}

function newTally(backend: string): Tally {
  return {
    backend,
    payloads: 0,
    accepted: 0,
    invalid_export: 0,
    already_exists: 0,
    viaInit: 0,
    acceptedWithHugeOrDeep: 0,
    mutationKinds: new Map(),
    rejectedAt: new Map(),
    violations: [],
  };
}

interface Base {
  readonly label: string;
  readonly text: string;
  readonly names: readonly string[];
  readonly ids: readonly string[];
}

/** A target store that may already hold names or ids of the payload (so already_exists happens). */
async function makeTarget(
  factory: Factory<'sync'>,
  rng: Rng,
  base: Base,
  bases: readonly Base[],
): Promise<{ store: Store<'sync'>; kind: string }> {
  const store = await factory({ sessionId: 'target' });
  const kind = rng.int(6);
  if (kind === 1 || kind === 2) {
    store.registerVariable('keep', 'float', 0.25, { constraints: { min: 0 } });
    store.registerVariable('note', 'string', 'kept');
  }
  if (kind === 2 && base.names.length > 0) store.registerVariable(rng.pick(base.names), 'integer', 7);
  if (kind === 3 && base.ids.length > 0) store.registerVariable(rng.pick(base.ids), 'boolean', true);
  if (kind === 4) store.importState(JSON.parse(rng.pick(bases).text));
  if (kind === 5) {
    store.registerVariable('keep', 'integer', 1);
    store.setVariable('keep', 2);
  }
  return { store, kind: ['empty', 'keep+note', 'payload name', 'payload id as name', 'prior import', 'keep v1'][kind] as string };
}

/** Groups an invalid_export path: `variables.*.value`, `variableIndex`, `formatVersion`, … */
function rejectionArea(path: string): string {
  if (path.startsWith('variableIndex')) return 'variableIndex';
  if (!path.startsWith('variables.')) return path;
  const field = /\.(id|name|type|value|constraints|metadata|version|createdAt|lastUpdatedAt)(\.|$)/.exec(path);
  return field ? `variables.*.${field[1]}` : 'variables.<id>';
}

async function runOne(factory: Factory<'sync'>, rng: Rng, bases: readonly Base[], tally: Tally, n: number): Promise<void> {
  const base = rng.pick(bases);
  const { store: target, kind } = await makeTarget(factory, rng, base, bases);
  const targetNames = target.listVariables().flatMap((v) => [v.name, v.id]);
  const payload = corrupt(rng, base.text, targetNames);
  for (const mutation of payload.kinds) tally.mutationKinds.set(mutation, (tally.mutationKinds.get(mutation) ?? 0) + 1);
  tally.payloads++;
  const where = `payload #${n} (base ${base.label}, target ${kind}): ${payload.log.join('; ')}`;
  const violation = (what: string) => {
    tally.violations.push(`${what}\n    at ${where}`);
    // FUZZ_DUMP=dir keeps each offending payload for a closer look.
    if (process.env.FUZZ_DUMP) writeFileSync(`${process.env.FUZZ_DUMP}/${tally.backend}-${n}.json`, payload.text);
  };

  const before = observe(target);
  const input = JSON.parse(payload.text) as unknown;
  const reference = JSON.parse(payload.text) as Json;
  let thrown: unknown;
  let threw = false;
  try {
    target.importState(input);
  } catch (error) {
    thrown = error;
    threw = true;
  }
  const polluted = pollution();
  if (polluted) violation(`prototype pollution: ${polluted}`);

  if (threw) {
    if (!(thrown instanceof StateError)) {
      violation(`threw a non-StateError: ${short(String(thrown), 300)}`);
      return;
    }
    if (thrown.code !== 'invalid_export' && thrown.code !== 'already_exists') {
      violation(`threw StateError ${thrown.code}: ${short(thrown.message, 300)}`);
      return;
    }
    tally[thrown.code]++;
    if (thrown.code === 'invalid_export') {
      if (typeof thrown.path !== 'string') violation('invalid_export without a path');
      const bucket = rejectionArea(thrown.path ?? '');
      tally.rejectedAt.set(bucket, (tally.rejectedAt.get(bucket) ?? 0) + 1);
    }
    const after = observe(target);
    if (!isDeepStrictEqual(after, before)) violation(`a failed import (${thrown.code}) changed the store: partial import`);
    if (kind === 'empty' && n % 5 === 0) {
      tally.viaInit++;
      const viaInit = await factory({ existingState: JSON.parse(payload.text) }).then(
        () => 'resolved',
        (error: unknown) => (error instanceof StateError ? error.code : `non-StateError ${String(error)}`),
      );
      if (viaInit !== thrown.code) violation(`init({ existingState }) gave ${viaInit} where importState threw ${thrown.code}`);
    }
    return;
  }

  tally.accepted++;
  if (payload.log.some((l) => l.includes('1 MiB') || l.includes('nested'))) tally.acceptedWithHugeOrDeep++;
  try {
    await checkAccepted(factory, target, before, reference, input, payload.text, violation);
  } catch (error) {
    violation(`an invariant check threw: ${error instanceof Error ? `${error.name}: ${short(error.message, 300)}` : String(error)}`);
  }
}

async function checkAccepted(
  factory: Factory<'sync'>,
  target: Store<'sync'>,
  before: { list: VariableInfo[]; stats: Record<string, number> },
  reference: Json,
  input: unknown,
  text: string,
  violation: (what: string) => void,
): Promise<void> {
  const root = reference as JsonObject;
  const variables = root.variables as JsonObject;
  const ids = Object.keys(variables);
  const numeric = ids.filter((id) => ['float', 'integer', 'boolean'].includes((variables[id] as JsonObject).type as string)).length;
  if (!text.includes('[[[[[') && !text.includes('{"a":{"a":{"a":') && !isDeepStrictEqual(input, reference))
    violation('importState changed the payload it was given');

  // Exactly the old variables, unchanged, then the payload's, in payload order.
  const after = observe(target);
  const old = after.list.slice(0, before.list.length);
  const added = after.list.slice(before.list.length);
  if (!isDeepStrictEqual(old, before.list)) violation('a successful import changed variables that were already there');
  if (
    !isDeepStrictEqual(
      added.map((v) => v.id),
      ids,
    )
  )
    violation(`imported ids ${short(JSON.stringify(added.map((v) => v.id)))} differ from the payload's ${short(JSON.stringify(ids))}`);
  const stats = after.stats;
  if (stats.variableCount !== (before.stats.variableCount as number) + ids.length) violation('variableCount is not old + imported');
  if (stats.totalOperations !== before.stats.totalOperations || stats.totalUpdates !== before.stats.totalUpdates) {
    violation('an import changed totalOperations or totalUpdates');
  }
  if ('tableEntries' in stats && stats.tableEntries !== (before.stats.tableEntries as number) + numeric) {
    violation(`tableEntries ${stats.tableEntries} is not ${before.stats.tableEntries} + ${numeric} numeric variables`);
  }

  // Each imported variable is what the payload said.
  const shadowedNames = new Set(after.list.map((v) => v.id));
  for (const info of added) {
    const raw = variables[info.id] as JsonObject;
    const fields = ['name', 'type', 'version', 'createdAt', 'lastUpdatedAt'] as const;
    for (const field of fields) {
      if (info[field] !== raw[field])
        violation(`${short(info.id, 60)}.${field}: stored ${short(String(info[field]))}, payload ${short(String(raw[field]))}`);
    }
    // Metadata is JSON data: a -0 in it is stored as 0, what an export through JSON would carry anyway.
    if (!isDeepStrictEqual(info.metadata, withoutNegativeZero(raw.metadata)))
      violation(`${short(info.id, 60)}.metadata differs from the payload`);
    if (Object.getPrototypeOf(info.metadata) !== Object.prototype) violation(`${short(info.id, 60)}.metadata has another prototype`);
    const expected = expectedValue(info.type, raw.value);
    if (!sameValue(info.value, expected))
      violation(`${short(info.id, 60)}.value: stored ${short(String(info.value))}, payload ${short(JSON.stringify(raw.value))}`);
    if (!sameValue(target.getVariable(info.id), expected)) violation(`getVariable(${short(info.id, 60)}) differs from the payload`);
    if (!shadowedNames.has(info.name) && !sameValue(target.getVariable(info.name), expected)) {
      violation(`getVariable(name ${short(info.name, 60)}) differs from the payload`);
    }
  }
  const exported = target.exportState();
  if (
    Object.getPrototypeOf(exported.variables) !== Object.prototype ||
    Object.getPrototypeOf(exported.variableIndex) !== Object.prototype
  ) {
    violation('an export has a non-standard prototype');
  }

  // Export → JSON → import into a fresh store round-trips exactly.
  const copy = await factory({ sessionId: 'copy' });
  copy.importState(JSON.parse(JSON.stringify(exported)));
  if (!isDeepStrictEqual(normalized(copy.listVariables()), normalized(target.listVariables()))) {
    violation('export → JSON → import into a fresh store does not round-trip');
  }

  // Each imported value re-validates (on the copy: a set bumps the version).
  for (const info of copy.listVariables().slice(before.list.length)) {
    try {
      copy.setVariable(info.id, copy.getVariable(info.id));
      const now = copy.ref(info.id);
      if (now.version !== info.version + 1 || !sameValue(now.get(), info.value)) violation(`re-setting ${short(info.id, 60)} changed it`);
    } catch (error) {
      const atLimit = info.version >= Number.MAX_SAFE_INTEGER && error instanceof StateError && error.rule === 'version';
      if (!atLimit) violation(`setVariable(${short(info.id, 60)}, its own value) threw ${String(error)}`);
    }
  }

  // What import accepted, registration accepts too: the constraints and metadata are valid ones.
  const fresh = await factory();
  for (const info of added) {
    try {
      fresh.registerVariable(info.name, info.type, info.value, { constraints: info.constraints, metadata: info.metadata });
    } catch (error) {
      violation(`registering ${short(info.name, 60)} as imported (${info.type}) threw ${short(String(error), 300)}`);
    }
  }

  // No id is generated twice, including ids that arrived by import. A payload carrying the last
  // serial (2^52) leaves no serial to generate: then registration is refused, and that is all.
  const seen = new Set(copy.listVariables().map((v) => v.id));
  try {
    const first = copy.registerVariable('@probe', 'integer', 1);
    copy.deleteVariable('@probe');
    const second = copy.registerVariable('@probe', 'integer', 2);
    if (seen.has(first) || seen.has(second) || first === second) {
      violation(`id generation repeated an id after this import: ${short(first, 60)} then ${short(second, 60)}`);
    }
  } catch (error) {
    const exhausted = error instanceof StateError && error.code === 'invalid_argument' && error.rule === 'serial';
    if (!exhausted || !added.some((info) => info.id.endsWith(`_${2 ** 52}`)))
      violation(`registering after this import threw ${String(error)}`);
  }
}

// ─── base payloads ──────────────────────────────────────────────────────────

async function basePayloads(factory: Factory<'sync'>, tag: string): Promise<Base[]> {
  const stores: Array<[string, Store<'sync'>]> = [];
  stores.push([`${tag}:rich`, await richStore(factory)]);
  const small = await factory({ sessionId: 'small' });
  small.registerVariable('x', 'float', 'NaN');
  small.registerVariable('y', 'float', -0.5, { constraints: { min: -1, max: 1 } });
  small.registerVariable('k', 'integer', -3, { constraints: { max: 10 } });
  small.registerVariable('b', 'boolean', false);
  small.registerVariable('s', 'string', 'hello', { constraints: { minLength: 1, enum: ['hello', 'bye'] } });
  for (let i = 0; i < 3; i++) small.setVariable('y', i / 10, { step: i });
  stores.push([`${tag}:small`, small]);
  stores.push([`${tag}:empty`, await factory({ sessionId: 'empty' })]);
  const odd = await factory({ sessionId: 'odd' });
  for (const name of ['constructor', 'prototype', 'hasOwnProperty', 'toString', 'a_1', 'var_q_1']) odd.registerVariable(name, 'integer', 1);
  odd.registerVariable('q', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
  odd.registerVariable('m', 'module', 'Anything');
  odd.registerVariable('t0', 'tensor', { shape: [], data: 3 });
  odd.registerVariable('e0', 'embedding', []);
  stores.push([`${tag}:odd`, odd]);
  const bases: Base[] = stores.map(([label, store]) => {
    const text = JSON.stringify(store.exportState());
    const list = store.listVariables();
    return { label, text, names: list.map((v) => v.name), ids: list.map((v) => v.id) };
  });
  // A payload whose variable names equal other variables' ids: the id wins, the name is shadowed.
  const shadow = JSON.parse(bases[1]?.text ?? '') as JsonObject;
  const variables = shadow.variables as JsonObject;
  const [xId, yId] = Object.keys(variables) as [string, string];
  const draft: Draft = { rng: new Rng(1), root: shadow, keyTexts: new Map(), textEdits: [], targetNames: [] };
  renameVariable(draft, yId, variables[yId] as JsonObject, 'y', xId, yId.slice('var_y_'.length));
  const shadowText = JSON.stringify(shadow);
  bases.push({ label: `${tag}:shadow`, text: shadowText, names: ['x', xId], ids: Object.keys(variables) });
  return bases;
}

// ─── the runs ───────────────────────────────────────────────────────────────

const backends: ReadonlyArray<[string, Factory<'sync'>]> = [
  ['LocalState', (options) => LocalState.init(options)],
  ['JsLocalState', (options) => JsLocalState.init(options)],
];

let allBases: Base[] = [];
const summary: string[] = [];

beforeAll(async () => {
  for (const [name, factory] of backends) allBases.push(...(await basePayloads(factory, name === 'LocalState' ? 'wasm' : 'js')));
  allBases = allBases.filter((base, i) => allBases.findIndex((b) => b.text === base.text) === i);
});

afterAll(() => {
  if (summary.length > 0) console.log(`\nimport fuzz (seed ${SEED}, ${PAYLOADS} payloads per backend)\n${summary.join('\n')}`);
});

describe('import fuzzing', () => {
  it('every base payload is valid and imports into both backends', async () => {
    expect(allBases.length).toBeGreaterThanOrEqual(8);
    for (const [, factory] of backends) {
      for (const base of allBases) {
        const store = await factory();
        store.importState(JSON.parse(base.text));
        expect(
          store.listVariables().map((v) => v.id),
          base.label,
        ).toEqual(base.ids);
      }
    }
  });

  for (const [backendName, factory] of backends) {
    it(`${backendName}: ${PAYLOADS} corrupted payloads end in a clean import or invalid_export/already_exists with nothing changed`, async () => {
      const rng = new Rng(SEED ^ (backendName === 'LocalState' ? 0 : 0x9e3779b9));
      const tally = newTally(backendName);
      const started = performance.now();
      for (let n = 0; n < PAYLOADS; n++) await runOne(factory, rng, allBases, tally, n);
      const seconds = (performance.now() - started) / 1000;
      const kinds = [...tally.mutationKinds].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`);
      const rejected = [...tally.rejectedAt].sort((a, b) => b[1] - a[1]).map(([k, c]) => `${k} ${c}`);
      summary.push(
        `${backendName}: ${tally.payloads} payloads in ${seconds.toFixed(1)} s: accepted ${tally.accepted} ` +
          `(${tally.acceptedWithHugeOrDeep} with a 1 MiB string or deep nesting), invalid_export ${tally.invalid_export}, ` +
          `already_exists ${tally.already_exists}; ${tally.viaInit} also via init({ existingState }); violations ${tally.violations.length}\n` +
          `  mutations: ${kinds.join(', ')}\n  invalid_export at: ${rejected.join(', ')}`,
      );
      const pollutedNow = pollution();
      expect(pollutedNow).toBeUndefined();
      expect(tally.payloads).toBe(PAYLOADS);
      expect(tally.accepted + tally.invalid_export + tally.already_exists + tally.violations.length).toBeGreaterThanOrEqual(PAYLOADS);
      // The generator must keep exercising every outcome, or the fuzz proves little.
      if (PAYLOADS >= 1000) {
        expect(tally.accepted).toBeGreaterThan(PAYLOADS * 0.05);
        expect(tally.already_exists).toBeGreaterThan(PAYLOADS * 0.02);
        expect(tally.invalid_export).toBeGreaterThan(PAYLOADS * 0.3);
      }
      const shown = tally.violations.slice(0, 12);
      expect(shown, `${tally.violations.length} violations; the first ${shown.length}:\n${shown.join('\n')}`).toEqual([]);
    }, 600_000);
  }

  it('leaves no trace on any prototype', () => {
    expect(pollution()).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
  });
});

// ─── serials near 2^53 ──────────────────────────────────────────────────────
// The fuzz found these: an id may carry a serial up to 2^53 - 1, and id
// generation continues from the largest serial imported, where n + 1 no longer
// changes n. Either such a payload is refused, or ids stay unique afterwards.

describe('ids after importing a serial near 2^53', () => {
  for (const [backendName, factory] of backends) {
    it(`${backendName}: a serial of 2^53 - 1 is refused, or no id is generated twice afterwards`, async () => {
      const source = await factory();
      source.registerVariable('y', 'integer', 1);
      const text = JSON.stringify(source.exportState()).replaceAll('"var_y_1"', `"var_y_${Number.MAX_SAFE_INTEGER}"`);
      const s = await factory();
      try {
        s.importState(JSON.parse(text));
      } catch (error) {
        expect((error as StateError).code).toBe('invalid_export');
        return;
      }
      const first = s.registerVariable('z', 'integer', 1);
      s.deleteVariable('z');
      const second = s.registerVariable('z', 'integer', 2);
      // README: "No id is generated twice, including ids that arrived by import."
      expect(second).not.toBe(first);
    });

    it(`${backendName}: registering after such an import returns even when the next id is taken by a name`, () => {
      // In a child process: the store can loop forever synchronously, which would hang this worker.
      const dist = new URL('../dist/index.js', import.meta.url).href;
      const script = `
        import { ${backendName} as Backend } from ${JSON.stringify(dist)};
        const source = await Backend.init();
        source.registerVariable('y', 'integer', 1);
        const s = await Backend.init();
        try {
          s.importState(JSON.parse(JSON.stringify(source.exportState()).replaceAll('"var_y_1"', '"var_y_9007199254740991"')));
        } catch (error) {
          console.log(error.code === 'invalid_export' ? 'refused' : String(error));
          process.exit(0);
        }
        s.registerVariable('var_w_9007199254740992', 'float', 1);
        s.registerVariable('w', 'float', 1);
        console.log('registered');`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
      expect(run.signal, 'registerVariable("w") never returned (killed after 10 s)').toBeNull();
      expect(['registered', 'refused']).toContain(run.stdout.trim());
    }, 30_000);
  }
});

/** `value` with every -0 as 0, as metadata is stored. */
function withoutNegativeZero(value: unknown): unknown {
  if (typeof value === 'number') return value + 0;
  if (Array.isArray(value)) return value.map(withoutNegativeZero);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    Object.defineProperty(out, key, {
      value: withoutNegativeZero((value as Record<string, unknown>)[key]),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}
