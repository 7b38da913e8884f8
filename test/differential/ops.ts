// Operations for the differential tests: fast-check arbitraries producing
// plain data (so a failure prints a readable, shrunk sequence). The runner
// (runner.ts) applies each operation to a LocalState and a JsLocalState.
//
// Names come from a small pool so that collisions, re-registration after
// delete, and a name that equals another variable's id all happen often.

import fc from 'fast-check';

export const TYPES = ['float', 'integer', 'boolean', 'string', 'choice', 'module', 'embedding', 'tensor'] as const;
export type TypeName = (typeof TYPES)[number];

/** The pool of names. `var_a_1` is the id `a` gets when it is registered first; '' is not a name. */
export const NAMES = [
  'a',
  'b',
  'temperature',
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'var_a_1',
  'var_a_2',
  'var_b_1',
  'var_b_2',
  'var___proto___1',
  'var_var_a_1_2',
  'var_',
  'a_1',
  '10',
  '👍🏽',
  'e\u0301',
] as const;

/** How an operation names a variable. */
export type Ident =
  | { readonly by: 'name'; readonly name: string }
  /** The id returned by an earlier successful register (index modulo their number). */
  | { readonly by: 'id'; readonly index: number }
  /** A variable of an earlier bulk registration. */
  | { readonly by: 'bulk'; readonly batch: number; readonly index: number }
  /** A variable that exists when the operation runs (the index-th in registration order, bulk ones aside), by name or by id. */
  | { readonly by: 'live'; readonly index: number; readonly via: 'name' | 'id' }
  /** A variable some watch of the current store watches (as listWatchers() lists them before the operation), else as 'live'. */
  | { readonly by: 'watched'; readonly index: number; readonly via: 'name' | 'id' }
  /** Anything at all, strings that look like ids and non-strings included. */
  | { readonly by: 'raw'; readonly value: unknown };

/**
 * An expected version for a conditional write, resolved when the step runs: the variable's current
 * version, one that is off by `by`, or any value at all (malformed ones must be invalid_argument).
 */
export type Guard =
  | { readonly kind: 'current' }
  | { readonly kind: 'off'; readonly by: number }
  | { readonly kind: 'raw'; readonly value: unknown };

/** A change to an exported snapshot (after its JSON round trip) before it is imported. */
export type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'variable'; readonly variable: number; readonly field: string; readonly value: unknown; readonly drop: boolean }
  | { readonly kind: 'envelope'; readonly field: string; readonly value: unknown; readonly drop: boolean }
  | { readonly kind: 'index'; readonly variable: number; readonly value: unknown; readonly drop: boolean };

export type Op =
  | { readonly op: 'register'; readonly name: string; readonly type: unknown; readonly value: unknown; readonly options: unknown }
  /** Registers one valid variable of each type, names taken from the pool starting at `offset`. */
  | { readonly op: 'populate'; readonly offset: number }
  | { readonly op: 'get'; readonly target: Ident }
  | { readonly op: 'set'; readonly target: Ident; readonly value: unknown; readonly metadata: unknown; readonly guard?: Guard }
  | { readonly op: 'getVariables'; readonly targets: readonly Ident[] | 'not-an-array' }
  | {
      readonly op: 'updateVariables';
      readonly form: 'object' | 'map';
      readonly items: ReadonlyArray<readonly [Ident, unknown]>;
      readonly metadata: unknown;
      /** ifVersions: on written variables, or read guards on others. */
      readonly guards?: ReadonlyArray<readonly [Ident, Guard]>;
    }
  | { readonly op: 'delete'; readonly target: Ident }
  /** Creates a ref; later refGet/refSet use refs by index (modulo their number), possibly stale. */
  | { readonly op: 'ref'; readonly target: Ident }
  | { readonly op: 'refGet'; readonly ref: number }
  | {
      readonly op: 'refSet';
      readonly ref: number;
      readonly value: unknown;
      readonly metadata: unknown;
      /** Picks among the refs to watched variables (by id) when there are any. */
      readonly watched?: true;
    }
  /** exportState → JSON → importState into fresh stores of the same and of the other backend. */
  | { readonly op: 'export' }
  /** exportState → JSON → mutate → a fresh store of the same backend imports it; on success it replaces the current one. */
  | { readonly op: 'reload'; readonly mutation: Mutation; readonly viaInit: boolean }
  /** importState (merge) of a snapshot taken by an earlier export or reload. */
  | { readonly op: 'importEarlier'; readonly snapshot: number }
  /** Registers `count` numeric variables (forces wasm table growth); `reuse` re-registers an earlier batch's names. */
  | {
      readonly op: 'bulkRegister';
      readonly type: 'float' | 'integer' | 'boolean';
      readonly count: number;
      readonly bounded: boolean;
      readonly reuse: number | null;
    }
  | { readonly op: 'bulkDelete'; readonly batch: number; readonly start: number; readonly stride: number }
  | { readonly op: 'bulkUpdate'; readonly batch: number; readonly start: number; readonly stride: number; readonly shift: number }
  | { readonly op: 'cleanup' }
  /** watchVariables on both stores; each side's callback logs every event it gets (see runner.ts). */
  | {
      readonly op: 'watch';
      readonly targets: readonly Ident[] | 'not-an-array' | 'empty';
      readonly includeInitial: boolean;
      readonly filter: WatchFilter;
      readonly action: WatchAction;
      readonly onError: 'none' | 'log' | 'rethrow';
      readonly signal: 'none' | 'live' | 'aborted';
      readonly odd: OddWatch;
    }
  /** Stops a watch captured earlier (index from the newest, modulo their number; possibly stopped already), or unwatchVariables(anything). */
  | { readonly op: 'unwatch'; readonly target: WatchRef }
  | { readonly op: 'listWatchers' };

/** A pure filter from a fixed set: 'none' passes no filter at all; 'throws' throws on every call. */
export type WatchFilter = 'none' | 'always' | 'changed' | 'numbers' | 'throws';

/**
 * What a watch callback does after logging its event. Targets are resolved
 * when the watch op runs; 'self' is the event's variable (its identifier as
 * given). Writes other than `every` ones happen once per watch; `every` ones
 * (and echo) are capped per step, so feedback loops stay bounded.
 */
export type WatchAction =
  | { readonly do: 'log' }
  | { readonly do: 'throw'; readonly every: boolean }
  | { readonly do: 'set'; readonly target: Ident | 'self'; readonly value: unknown; readonly every: boolean }
  /** Sets the event's variable to the event's new value: a loop unless the filter ends it. */
  | { readonly do: 'echo' }
  | { readonly do: 'delete'; readonly target: Ident | 'self' }
  | { readonly do: 'batch'; readonly items: ReadonlyArray<readonly [Ident, unknown]>; readonly withSelf: boolean }
  /** Unwatches itself, or the index-th captured watch (resolved when the callback runs). */
  | { readonly do: 'unwatch'; readonly which: 'self' | number }
  /** Registers another (logging) watch from inside the callback. */
  | { readonly do: 'watch'; readonly targets: readonly Ident[]; readonly includeInitial: boolean }
  | { readonly do: 'cleanup' };

/** Malformed watchVariables arguments. */
export type OddWatch =
  | 'none'
  | 'bogus-key'
  | 'includeInitial-string'
  | 'filter-not-function'
  | 'callback-not-function'
  | 'options-null'
  | 'signal-not-signal';

/** The watch options an odd case passes: `options` made odd in place, or something else in its stead. */
export function oddWatchOptions(odd: OddWatch, options: Record<string, unknown>): unknown {
  switch (odd) {
    case 'bogus-key':
      options.bogus = 1;
      return options;
    case 'includeInitial-string':
      options.includeInitial = 'yes';
      return options;
    case 'filter-not-function':
      options.filter = 'changed';
      return options;
    case 'options-null':
      return null;
    case 'signal-not-signal':
      options.signal = { aborted: false };
      return options;
    default:
      return options;
  }
}

export type WatchRef =
  | { readonly by: 'captured'; readonly index: number; readonly via: 'method' | 'object' | 'id' | 'abort' }
  | { readonly by: 'raw'; readonly value: unknown };

// ─── values ────────────────────────────────────────────────────────────────

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

export const EDGE_NUMBERS: readonly number[] = [
  0,
  -0,
  1,
  -1,
  2,
  3,
  0.5,
  1.5,
  0.7,
  40,
  100,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  5e-324,
  -5e-324,
  2 ** 53,
  MAX_SAFE,
  -MAX_SAFE,
  2 ** 31,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  0.1 + 0.2,
];

const EDGE_STRINGS = [
  '',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '1.5',
  '1',
  '0',
  'true',
  'false',
  'a',
  'ab',
  'abc',
  'aaaa',
  'x',
  'greedy',
  'beam',
  'Predict',
  'ChainOfThought',
  '👍🏽',
  '👍🏽👍🏽',
  'e\u0301',
  'e\u0301e\u0301x',
  '👨‍👩‍👧‍👦',
  'a\r\nb',
  '[',
  '__proto__',
  'var_a_1',
];

const finiteDouble = fc.oneof(fc.constantFrom(0, -0, 1, -1, 0.5, 5e-324, 1e308), fc.double({ noNaN: true, noDefaultInfinity: true }));

export const numberArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 105 }) },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.maxSafeInteger() },
);

export const stringArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 5 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }) },
);

function product(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Nests a flat list into `shape` (row-major). */
export function nest(shape: readonly number[], flat: readonly unknown[]): unknown {
  if (shape.length === 0) return flat[0];
  const [first = 0, ...rest] = shape;
  const size = product(rest);
  const out: unknown[] = [];
  for (let i = 0; i < first; i++) out.push(nest(rest, flat.slice(i * size, (i + 1) * size)));
  return out;
}

const shapeArb = fc.array(fc.nat(3), { maxLength: 3 });

const validTensorArb = shapeArb.chain((shape) =>
  fc.array(finiteDouble, { minLength: product(shape), maxLength: product(shape) }).map((flat) => ({ shape, data: nest(shape, flat) })),
);

const deepShape = Array.from({ length: 33 }, () => 1);

const oddTensorArb: fc.Arbitrary<unknown> = fc.oneof(
  // Wrong size, wrong shapes, bad leaves, a flat list for a 2-D shape, too deep.
  validTensorArb.map((t) => ({ shape: [...t.shape, 2], data: t.data })),
  validTensorArb.map((t) => ({ shape: t.shape, data: [t.data, t.data] })),
  fc
    .constantFrom<() => unknown>(
      () => ({ shape: [2, 2], data: [1, 2, 3, 4] }),
      () => ({ shape: [2, 2], data: [[1, 2, 3], [4]] }),
      () => ({ shape: [2], data: [1] }),
      () => ({ shape: [2], data: [1, Number.NaN] }),
      () => ({ shape: [1], data: [Number.POSITIVE_INFINITY] }),
      () => ({ shape: [-1], data: [] }),
      () => ({ shape: [1.5], data: [1] }),
      () => ({ shape: [], data: 5 }),
      () => ({ shape: [], data: [5] }),
      () => ({ shape: [0], data: [] }),
      () => ({ shape: [2, 1], data: [[-0], [2]] }),
      () => ({ shape: [1], data: ['1'] }),
      () => ({ shape: [1], data: ['-0'] }),
      () => ({ shape: '2', data: [1, 2] }),
      () => ({ data: [1] }),
      () => ({ shape: [1], data: [1], extra: true }),
      () => ({ shape: deepShape, data: nest(deepShape, [1]) }),
      () => ({ shape: [1], data: new Float64Array([1]) }),
      () => [1, 2],
    )
    .map((make) => make()),
);

const embeddingArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.array(finiteDouble, { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.float32Array({ maxLength: 3 }) },
  { weight: 1, arbitrary: fc.float64Array({ maxLength: 3 }) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<() => unknown>(
        () => [1, Number.NaN],
        () => [Number.POSITIVE_INFINITY],
        () => [-0, 5e-324],
        () => ['1'],
        () => ['-0'],
        () => [[1]],
        () => new Int32Array([1, 2]),
        () => [1, 2, 3],
        () => [],
      )
      .map((make) => make()),
  },
);

/** A value that suits `type` most of the time, with its own edge cases. */
export function valueFor(type: TypeName): fc.Arbitrary<unknown> {
  switch (type) {
    case 'float':
      return fc.oneof(numberArb, fc.constantFrom('NaN', 'Infinity', '-Infinity'));
    case 'integer':
      return fc.oneof(fc.integer({ min: -5, max: 105 }), numberArb);
    case 'boolean':
      return fc.constantFrom(true, false, 'true', 'false', 1, 0, -0);
    case 'string':
      return stringArb;
    case 'choice':
    case 'module':
      return fc.oneof(fc.constantFrom(...LISTED), stringArb);
    case 'embedding':
      return embeddingArb;
    case 'tensor':
      return fc.oneof({ weight: 2, arbitrary: validTensorArb }, { weight: 1, arbitrary: oddTensorArb });
  }
}

/** Strings the choice and module constraints list. */
const LISTED = ['a', 'b', 'x', 'greedy', 'beam', 'Predict', 'ChainOfThought', '👍🏽', 'e\u0301', '', '__proto__'] as const;

/**
 * A write whose value is chosen when it runs, for the target's type (the
 * generator cannot know it): `{ $fit: { float, integer, … } }`. Targets that
 * do not exist get the float candidate.
 */
export interface Fit {
  readonly $fit: Readonly<Record<TypeName, unknown>>;
}

export function isFit(value: unknown): value is Fit {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, '$fit');
}

const fitArb: fc.Arbitrary<Fit> = fc
  .record({
    float: valueFor('float'),
    integer: valueFor('integer'),
    boolean: valueFor('boolean'),
    string: valueFor('string'),
    choice: fc.constantFrom(...LISTED),
    module: fc.constantFrom(...LISTED),
    embedding: valueFor('embedding'),
    tensor: valueFor('tensor'),
  })
  .map(($fit) => ({
    $fit,
    // Printed compactly in counterexamples.
    [fc.toStringMethod]: () => `fit(${TYPES.map((type) => `${type}: ${fc.stringify($fit[type])}`).join(', ')})`,
  }));

/** Values that no type accepts, or only one does: wrong types, odd objects. */
const oddValueArb: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => undefined,
    () => null,
    () => true,
    () => false,
    () => 1n,
    () => ({}),
    () => [],
    () => () => 1,
    () => Symbol('s'),
    () => new Date(0),
    () => new Number(1),
    () => new String('a'),
    () => /a/g,
    () => ({ valueOf: () => 1 }),
    () => Object.create(null),
  )
  .map((make) => make());

/** Any value, for writes to a variable whose type the generator does not know. */
export const anyValueArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: numberArb },
  { weight: 1, arbitrary: fc.constantFrom('NaN', 'Infinity', '-Infinity', 'true', 'false') },
  { weight: 2, arbitrary: fc.boolean() },
  { weight: 4, arbitrary: stringArb },
  { weight: 2, arbitrary: embeddingArb },
  { weight: 2, arbitrary: validTensorArb },
  { weight: 1, arbitrary: oddTensorArb },
  { weight: 1, arbitrary: oddValueArb },
);

/** The value of a write: usually fitted to the target's type, otherwise anything. */
export const writeValueArb: fc.Arbitrary<unknown> = fc.oneof({ weight: 4, arbitrary: fitArb }, { weight: 1, arbitrary: anyValueArb });

// ─── metadata ──────────────────────────────────────────────────────────────

/** An object with these own entries, "__proto__" kept as an own key. */
export function ownObject(entries: ReadonlyArray<readonly [string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const metaKey = fc.constantFrom('a', 'b', 'reason', 'description', '__proto__', 'constructor', '');

const validMetadataArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({}) },
  {
    weight: 4,
    arbitrary: fc.array(fc.tuple(metaKey, fc.jsonValue({ maxDepth: 2 })), { maxLength: 3 }).map((entries) => ownObject(entries)),
  },
);

function deepObject(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

const invalidMetadataArb: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => ({ f: () => 1 }),
    () => ({ n: Number.NaN }),
    () => ({ i: Number.NEGATIVE_INFINITY }),
    () => ({ u: undefined }),
    () => ({ d: new Date(0) }),
    () => ({ s: Symbol('s') }),
    () => ({ [Symbol('k')]: 1 }),
    () => ({ big: 1n }),
    () => ({ m: new Map() }),
    () => ({ nested: { deeper: [1, () => 2] } }),
    () => [1],
    () => null,
    () => 'reason',
    () => 5,
    () => new Map([['a', 1]]),
    () => Object.create({ inherited: 1 }),
    () => {
      const cycle: Record<string, unknown> = { a: 1 };
      cycle.self = cycle;
      return cycle;
    },
    () => deepObject(70),
  )
  .map((make) => make());

/** Metadata for a write: usually none, often valid, sometimes not JSON data. */
export const writeMetadataArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: validMetadataArb },
  { weight: 1, arbitrary: invalidMetadataArb },
);

// ─── constraints ───────────────────────────────────────────────────────────

const boundArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(0, -0, 1, -1, 2, 0.5, 1.5, 0.7, 40, 100, 5e-324, -5e-324, 1e308, -1e308, 2 ** 53, MAX_SAFE) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 105 }) },
);

const badConstraintArb: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => ({ min: Number.NaN }),
    () => ({ max: Number.POSITIVE_INFINITY }),
    () => ({ min: '1' }),
    () => ({ maxLenght: 2 }),
    () => ({ min: 2, max: 1 }),
    () => ({ minLength: 3, maxLength: 2 }),
    () => ({ minLength: -1 }),
    () => ({ maxLength: 1.5 }),
    () => ({ choices: [] }),
    () => ({ enum: [] }),
    () => ({ dimensions: -1 }),
    () => ({ shape: [1.5] }),
    () => ({ shape: deepShape }),
    () => ({ pattern: 5 }),
    () => ({ allowedModules: 'Predict' }),
    () => null,
    () => 'x',
    () => [],
    () => ownObject([['__proto__', { min: 1 }]]),
  )
  .map((make) => make());

const numericConstraintsArb: fc.Arbitrary<unknown> = fc.oneof(
  // An explicit undefined bound is an open bound.
  { weight: 1, arbitrary: boundArb.chain((v) => fc.constantFrom<unknown>({ min: undefined, max: v }, { min: v, max: undefined })) },
  { weight: 3, arbitrary: fc.tuple(boundArb, boundArb).map(([a, b]) => (a <= b ? { min: a, max: b } : { min: b, max: a })) },
  { weight: 2, arbitrary: fc.record({ min: boundArb, max: boundArb }, { requiredKeys: [] }) },
  { weight: 2, arbitrary: boundArb.map((v) => ({ min: v, max: v })) },
);

const patternArb: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => '^a',
    () => 'a+',
    () => '[',
    () => '(',
    () => '^\\d+$',
    () => '.',
    () => '^.$',
    () => 'ab?c',
    () => '👍',
    () => '',
    () => /a/g,
    () => /^a/gy,
    () => /^a/y,
    () => /B/i,
    () => /^.$/u,
    () => /^.$/,
    () => /x/gi,
    () => /(?:)/g,
  )
  .map((make) => make());

const lengthArb = fc.constantFrom(0, 1, 2, 3, 4, undefined);
const listArb = fc.constantFrom<readonly string[]>(
  ['a', 'b'],
  ['x'],
  ['greedy', 'beam'],
  ['Predict', 'ChainOfThought'],
  ['👍🏽', 'e\u0301'],
  ['', 'a'],
  ['__proto__'],
);

const stringConstraintsArb: fc.Arbitrary<unknown> = fc.record(
  { minLength: lengthArb, maxLength: lengthArb, pattern: patternArb, enum: listArb.map((l) => [...l]) },
  { requiredKeys: [] },
);

function constraintsFor(type: TypeName): fc.Arbitrary<unknown> {
  switch (type) {
    case 'float':
    case 'integer':
      return numericConstraintsArb;
    case 'boolean':
      return fc.constantFrom<unknown>({}, { min: 0 });
    case 'string':
      return stringConstraintsArb;
    case 'choice':
      return fc.oneof(
        { weight: 4, arbitrary: listArb.map((l) => ({ choices: [...l] })) },
        { weight: 1, arbitrary: fc.constantFrom<unknown>({}, { allowedModules: ['a'] }) },
      );
    case 'module':
      return fc.oneof(
        fc.constant({}),
        listArb.map((l) => ({ allowedModules: [...l] })),
      );
    case 'embedding':
      return fc.constantFrom(0, 1, 2, 3, undefined).map((dimensions) => ({ dimensions }));
    case 'tensor':
      return fc.constantFrom<readonly number[]>([2], [2, 2], [], [0], [1, 2], [2, 1]).map((shape) => ({ shape: [...shape] }));
  }
}

function optionsFor(type: TypeName): fc.Arbitrary<unknown> {
  const constraints = fc.oneof({ weight: 12, arbitrary: constraintsFor(type) }, { weight: 1, arbitrary: badConstraintArb });
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 6,
      arbitrary: fc.record(
        {
          constraints,
          description: fc.oneof(
            { weight: 5, arbitrary: fc.constantFrom('sampling temperature', '') },
            { weight: 1, arbitrary: fc.constant(5) },
          ),
          metadata: fc.oneof({ weight: 8, arbitrary: validMetadataArb }, { weight: 1, arbitrary: invalidMetadataArb }),
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: fc.constantFrom<unknown>({ bogus: 1 }, null, 'options', { constraints: undefined }, {}) },
  );
}

// ─── identifiers ───────────────────────────────────────────────────────────

export const identArb: fc.Arbitrary<Ident> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...NAMES).map((name): Ident => ({ by: 'name', name })) },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<unknown>('var_a_0', 'var_a_01', 'var_a_1 ', 'VAR_A_1', 5, undefined, null, ['a'], { toString: () => 'a' })
      .map((value): Ident => ({ by: 'raw', value })),
  },
  { weight: 4, arbitrary: fc.nat(15).map((index): Ident => ({ by: 'id', index })) },
  {
    weight: 2,
    arbitrary: fc.record({ batch: fc.nat(4), index: fc.nat(2500) }).map(({ batch, index }): Ident => ({ by: 'bulk', batch, index })),
  },
  {
    weight: 14,
    arbitrary: fc
      .record({ index: fc.nat(12), via: fc.constantFrom<'name' | 'id'>('name', 'id') })
      .map(({ index, via }): Ident => ({ by: 'live', index, via })),
  },
  {
    weight: 8,
    arbitrary: fc
      .record({ index: fc.nat(6), via: fc.constantFrom<'name' | 'id'>('name', 'id') })
      .map(({ index, via }): Ident => ({ by: 'watched', index, via })),
  },
);

/** A watched variable (a live one when nothing is watched). */
const watchedArb: fc.Arbitrary<Ident> = fc
  .record({ index: fc.nat(6), via: fc.constantFrom<'name' | 'id'>('name', 'id') })
  .map(({ index, via }): Ident => ({ by: 'watched', index, via }));

// ─── snapshot mutations ────────────────────────────────────────────────────

const VARIABLE_FIELDS = ['value', 'type', 'version', 'constraints', 'metadata', 'id', 'name', 'createdAt', 'lastUpdatedAt', 'extra'];
const ENVELOPE_FIELDS = ['format', 'formatVersion', 'sessionId', 'variables', 'variableIndex', 'metadata', 'stats', 'extra'];

/** JSON-safe replacement values for snapshot fields. */
const jsonOddArb: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.constantFrom<unknown>(
      'NaN',
      '-0',
      'Infinity',
      '-Infinity',
      'nan',
      -1,
      0,
      1,
      1.5,
      MAX_SAFE - 1,
      MAX_SAFE,
      2 ** 53,
      1e308,
      null,
      true,
      'x',
      '',
      'float',
      'integer',
      'boolean',
      'string',
      'tensor',
      'embedding',
      'choice',
      'Float',
      'var_a_1',
      'a',
      [],
      [1, 'NaN', '-0'],
      ['a'],
      {},
      { min: 1 },
      { min: 2, max: 1 },
      { pattern: { regexp: '[', flags: '' } },
      { pattern: { regexp: 'a', flags: 'gq' } },
      { pattern: { regexp: '^a', flags: 'gy' } },
      { choices: ['a'] },
      { shape: [1] },
      { dimensions: 2 },
      { shape: [1], data: ['-0'] },
      { shape: [2], data: [1, 'NaN'] },
      { __bogus: 1 },
      'localstate',
    ),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
);

export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mutation>({ kind: 'none' }) },
  {
    weight: 4,
    arbitrary: fc
      .record({ variable: fc.nat(20), field: fc.constantFrom(...VARIABLE_FIELDS), value: jsonOddArb, drop: fc.boolean() })
      .map((m): Mutation => ({ kind: 'variable', ...m, drop: m.drop && m.field !== 'extra' })),
  },
  // Versions at the limit: later writes must be refused rather than overflow.
  {
    weight: 2,
    arbitrary: fc
      .record({ variable: fc.nat(20), value: fc.constantFrom(MAX_SAFE - 1, MAX_SAFE - 2, MAX_SAFE) })
      .map((m): Mutation => ({ kind: 'variable', variable: m.variable, field: 'version', value: m.value, drop: false })),
  },
  {
    weight: 1,
    arbitrary: fc
      .record({ field: fc.constantFrom(...ENVELOPE_FIELDS), value: jsonOddArb, drop: fc.boolean() })
      .map((m): Mutation => ({ kind: 'envelope', ...m, drop: m.drop && m.field !== 'extra' })),
  },
  {
    weight: 1,
    arbitrary: fc.record({ variable: fc.nat(20), value: jsonOddArb, drop: fc.boolean() }).map((m): Mutation => ({ kind: 'index', ...m })),
  },
);

// ─── operations ────────────────────────────────────────────────────────────

const typeArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 16, arbitrary: fc.constantFrom(...TYPES) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('Float', 'number', '', 'toString', '__proto__', undefined, 5) },
);

export const registerArb: fc.Arbitrary<Op> = fc.record({ name: fc.constantFrom(...NAMES), type: typeArb }).chain(({ name, type }) => {
  const known = (TYPES as readonly unknown[]).includes(type) ? (type as TypeName) : 'float';
  return fc
    .record({
      value: fc.oneof({ weight: 5, arbitrary: valueFor(known) }, { weight: 1, arbitrary: anyValueArb }),
      options: optionsFor(known),
    })
    .map(({ value, options }): Op => ({ op: 'register', name, type, value, options }));
});

const updateItemArb = fc.tuple(identArb, writeValueArb);

const guardArb: fc.Arbitrary<Guard> = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Guard>({ kind: 'current' }) },
  {
    weight: 3,
    arbitrary: fc
      .integer({ min: -2, max: 2 })
      .filter((by) => by !== 0)
      .map((by): Guard => ({ kind: 'off', by })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<unknown>(-1, 1.5, Number.NaN, '1', null, 2 ** 53, -0, Number.MAX_SAFE_INTEGER)
      .map((value): Guard => ({ kind: 'raw', value })),
  },
);

// ─── watching ──────────────────────────────────────────────────────────────

/** Mostly variables that exist (one missing identifier fails the whole watch), sometimes any identifier. */
const watchIdentArb: fc.Arbitrary<Ident> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record({ index: fc.nat(12), via: fc.constantFrom<'name' | 'id'>('name', 'id') })
      .map(({ index, via }): Ident => ({ by: 'live', index, via })),
  },
  { weight: 2, arbitrary: identArb },
  // Bulk variables, so that bulk deletes and bulk updates touch watched variables.
  {
    weight: 1,
    arbitrary: fc.record({ batch: fc.nat(4), index: fc.nat(2500) }).map(({ batch, index }): Ident => ({ by: 'bulk', batch, index })),
  },
);

const watchTargetsArb: fc.Arbitrary<Ident[]> = fc
  .record({ items: fc.array(watchIdentArb, { minLength: 1, maxLength: 3 }), again: fc.boolean() })
  .map(({ items, again }) => {
    // Sometimes the first variable once more, through its other identifier (name ↔ id).
    const first = items[0];
    return again && (first?.by === 'live' || first?.by === 'watched')
      ? [...items, { ...first, via: first.via === 'id' ? 'name' : 'id' }]
      : items;
  });

const selfOrIdentArb: fc.Arbitrary<Ident | 'self'> = fc.oneof(
  { weight: 1, arbitrary: fc.constant<'self'>('self') },
  { weight: 2, arbitrary: identArb },
);

export const watchActionArb: fc.Arbitrary<WatchAction> = fc.oneof(
  { weight: 40, arbitrary: fc.constant<WatchAction>({ do: 'log' }) },
  { weight: 10, arbitrary: fc.boolean().map((every): WatchAction => ({ do: 'throw', every })) },
  {
    weight: 20,
    arbitrary: fc
      .record({
        target: selfOrIdentArb,
        value: writeValueArb,
        every: fc.oneof({ weight: 3, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      })
      .map((r): WatchAction => ({ do: 'set', ...r })),
  },
  { weight: 4, arbitrary: fc.constant<WatchAction>({ do: 'echo' }) },
  { weight: 6, arbitrary: selfOrIdentArb.map((target): WatchAction => ({ do: 'delete', target })) },
  {
    weight: 6,
    arbitrary: fc
      .record({ items: fc.array(fc.tuple(identArb, writeValueArb), { maxLength: 3 }), withSelf: fc.boolean() })
      .map((r): WatchAction => ({ do: 'batch', ...r })),
  },
  {
    weight: 6,
    arbitrary: fc.oneof(fc.constant<'self'>('self'), fc.nat(6)).map((which): WatchAction => ({ do: 'unwatch', which })),
  },
  {
    weight: 4,
    arbitrary: fc.record({ targets: watchTargetsArb, includeInitial: fc.boolean() }).map((r): WatchAction => ({ do: 'watch', ...r })),
  },
  { weight: 2, arbitrary: fc.constant<WatchAction>({ do: 'cleanup' }) },
);

const watchArb: fc.Arbitrary<Op> = fc
  .record({
    targets: fc.oneof(
      { weight: 30, arbitrary: watchTargetsArb },
      { weight: 1, arbitrary: fc.constantFrom<'not-an-array' | 'empty'>('not-an-array', 'empty') },
    ),
    includeInitial: fc.oneof({ weight: 2, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    filter: fc.oneof(
      { weight: 6, arbitrary: fc.constant<WatchFilter>('none') },
      { weight: 6, arbitrary: fc.constantFrom<WatchFilter>('always', 'changed', 'numbers') },
      { weight: 1, arbitrary: fc.constant<WatchFilter>('throws') },
    ),
    action: watchActionArb,
    onError: fc.oneof(
      { weight: 8, arbitrary: fc.constant<'none'>('none') },
      { weight: 2, arbitrary: fc.constantFrom<'log' | 'rethrow'>('log', 'rethrow') },
    ),
    signal: fc.oneof(
      { weight: 8, arbitrary: fc.constant<'none'>('none') },
      { weight: 3, arbitrary: fc.constantFrom<'live' | 'aborted'>('live', 'live', 'aborted') },
    ),
    odd: fc.oneof(
      { weight: 40, arbitrary: fc.constant<OddWatch>('none') },
      {
        weight: 1,
        arbitrary: fc.constantFrom<OddWatch>(
          'bogus-key',
          'includeInitial-string',
          'filter-not-function',
          'callback-not-function',
          'options-null',
          'signal-not-signal',
        ),
      },
    ),
  })
  .map((r): Op => ({ op: 'watch', ...r }));

const watchRefArb: fc.Arbitrary<WatchRef> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc
      .record({ index: fc.nat(8), via: fc.constantFrom<'method' | 'object' | 'id' | 'abort'>('method', 'object', 'id', 'abort') })
      .map((r): WatchRef => ({ by: 'captured', ...r })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom<() => unknown>(
        () => 'watch_1',
        () => 'watch_2',
        () => 'watch_0',
        () => 'watch_unknown',
        () => '',
        () => 5,
        () => undefined,
        () => null,
        () => ({ id: 'watch_1' }),
        () => ({}),
      )
      .map((make): WatchRef => ({ by: 'raw', value: make() })),
  },
);

/** Arbitrary operations. `bulk` scales how often the table-growth operations appear. */
export function opArb(bulk = 1): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 40, arbitrary: registerArb },
    { weight: 4, arbitrary: fc.nat(NAMES.length - 1).map((offset): Op => ({ op: 'populate', offset })) },
    { weight: 20, arbitrary: identArb.map((target): Op => ({ op: 'get', target })) },
    {
      weight: 8,
      arbitrary: fc
        .oneof(
          { weight: 9, arbitrary: fc.array(identArb, { maxLength: 5 }) },
          { weight: 1, arbitrary: fc.constant<'not-an-array'>('not-an-array') },
        )
        .map((targets): Op => ({ op: 'getVariables', targets })),
    },
    {
      weight: 24,
      arbitrary: fc
        .record({
          form: fc.constantFrom<'object' | 'map'>('object', 'map'),
          items: fc.array(updateItemArb, { maxLength: 4 }),
          metadata: writeMetadataArb,
          // The first item's variable once more, through its other identifier (name ↔ id).
          again: fc.option(writeValueArb, { freq: 3 }),
        })
        .map(({ form, items, metadata, again }): Op => {
          const first = items[0]?.[0];
          const extra: Array<readonly [Ident, unknown]> =
            again !== null && (first?.by === 'live' || first?.by === 'watched')
              ? [[{ ...first, via: first.via === 'id' ? 'name' : 'id' }, again]]
              : [];
          return { op: 'updateVariables', form, items: [...items, ...extra], metadata };
        }),
    },
    {
      // Batches of fitting writes to watched variables: most succeed, so their events are delivered.
      weight: 8,
      arbitrary: fc
        .record({
          form: fc.constantFrom<'object' | 'map'>('object', 'map'),
          items: fc.array(fc.tuple(watchedArb, fitArb), { minLength: 1, maxLength: 3 }),
          metadata: fc.oneof(fc.constant(undefined), validMetadataArb),
        })
        .map(({ form, items, metadata }): Op => ({ op: 'updateVariables', form, items, metadata })),
    },
    { weight: 20, arbitrary: identArb.map((target): Op => ({ op: 'delete', target })) },
    { weight: 4, arbitrary: watchedArb.map((target): Op => ({ op: 'delete', target })) },
    { weight: 12, arbitrary: identArb.map((target): Op => ({ op: 'ref', target })) },
    { weight: 4, arbitrary: watchedArb.map((target): Op => ({ op: 'ref', target })) },
    { weight: 12, arbitrary: fc.nat(10).map((ref): Op => ({ op: 'refGet', ref })) },
    {
      weight: 16,
      arbitrary: fc.record({ ref: fc.nat(10), value: writeValueArb, metadata: writeMetadataArb }).map((r): Op => ({ op: 'refSet', ...r })),
    },
    {
      weight: 6,
      arbitrary: fc
        .record({ ref: fc.nat(10), value: fitArb, metadata: fc.oneof(fc.constant(undefined), validMetadataArb) })
        .map((r): Op => ({ op: 'refSet', ...r, watched: true })),
    },
    { weight: 8, arbitrary: fc.constant<Op>({ op: 'export' }) },
    { weight: 24, arbitrary: watchArb },
    { weight: 6, arbitrary: watchRefArb.map((target): Op => ({ op: 'unwatch', target })) },
    { weight: 2, arbitrary: fc.constant<Op>({ op: 'listWatchers' }) },
    // Not at either end of the list: fast-check biases its choice towards the ends.
    { weight: 1, arbitrary: fc.constant<Op>({ op: 'cleanup' }) },
    { weight: 8, arbitrary: fc.record({ mutation: mutationArb, viaInit: fc.boolean() }).map((r): Op => ({ op: 'reload', ...r })) },
    { weight: 4, arbitrary: fc.nat(5).map((snapshot): Op => ({ op: 'importEarlier', snapshot })) },
    {
      weight: 4 * bulk,
      arbitrary: fc
        .record({
          type: fc.constantFrom<'float' | 'integer' | 'boolean'>('float', 'integer', 'boolean'),
          count: fc.integer({ min: 200, max: 2000 }),
          bounded: fc.boolean(),
          reuse: fc.option(fc.nat(4), { nil: null, freq: 3 }),
        })
        .map((r): Op => ({ op: 'bulkRegister', ...r })),
    },
    {
      weight: 4 * bulk,
      arbitrary: fc
        .record({ batch: fc.nat(4), start: fc.nat(6), stride: fc.integer({ min: 1, max: 7 }) })
        .map((r): Op => ({ op: 'bulkDelete', ...r })),
    },
    {
      weight: 4 * bulk,
      arbitrary: fc
        .record({ batch: fc.nat(4), start: fc.nat(6), stride: fc.integer({ min: 1, max: 9 }), shift: fc.integer({ min: -3, max: 3 }) })
        .map((r): Op => ({ op: 'bulkUpdate', ...r })),
    },
    {
      weight: 40,
      arbitrary: fc.record({ target: identArb, value: writeValueArb, metadata: writeMetadataArb }).map((r): Op => ({ op: 'set', ...r })),
    },
    {
      // Conditional writes (ifVersion): mostly at the current version, some stale, a few malformed.
      weight: 10,
      arbitrary: fc
        .record({ target: identArb, value: writeValueArb, metadata: writeMetadataArb, guard: guardArb })
        .map((r): Op => ({ op: 'set', ...r })),
    },
    {
      // Conditional batches (ifVersions): guards on written variables and read guards on others.
      weight: 10,
      arbitrary: fc
        .record({
          form: fc.constantFrom<'object' | 'map'>('object', 'map'),
          items: fc.array(updateItemArb, { maxLength: 3 }),
          metadata: writeMetadataArb,
          guards: fc.array(fc.tuple(identArb, guardArb), { minLength: 1, maxLength: 3 }),
          onWritten: fc.boolean(),
        })
        .map(({ form, items, metadata, guards, onWritten }): Op => {
          // Guard the written variables themselves (same identifiers), or other variables.
          const targets =
            onWritten && items.length > 0 ? guards.map(([, guard], i) => [items[i % items.length]?.[0] as Ident, guard] as const) : guards;
          return { op: 'updateVariables', form, items, metadata, guards: targets };
        }),
    },
  );
}

/** A sequence of operations. */
export function sequenceArb(maxLength: number, bulk = 1): fc.Arbitrary<Op[]> {
  return fc.array(opArb(bulk), { minLength: 1, maxLength, size: 'max' });
}
