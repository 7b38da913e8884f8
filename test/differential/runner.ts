// Applies a sequence of operations (ops.ts) to a LocalState and a JsLocalState
// side by side. After every step the two must agree on the outcome (the
// normalized result, or the StateError's code, rule and message), on
// listVariables() (timestamps aside), on the shared counters, and the wasm
// table must hold exactly the numeric variables. Any exception that is not a
// StateError is a failure. A divergence throws an Error naming the step.
// (redis-runner.ts compares LocalState with RedisState the same way, with the
// helpers exported here.)
//
// Watching: each side's watch callbacks append a normalized record of every
// event they get to that side's own log; after every step the two logs must
// be equal, and so must listWatchers() (createdAt aside). An AggregateError
// from a delivery is an outcome like a StateError: its errors' count and
// messages are compared (each must be a StateError or a deliberate callback
// error; anything else is a failure).

import { JsLocalState, LocalState, StateError } from '../../dist/index.js';
import type { Guard, Ident, Mutation, Op, WatchAction, WatchFilter, WatchRef } from './ops.js';
import { isFit, NAMES, oddWatchOptions, ownObject, type TypeName } from './ops.js';

type Side = 'wasm' | 'js';
const SIDES: readonly Side[] = ['wasm', 'js'];

/** The two stores, typed loosely so operations can pass arguments the API refuses. */
interface AnyStore {
  readonly sessionId: string;
  registerVariable(name: unknown, type: unknown, value: unknown, options?: unknown): string;
  getVariable(identifier: unknown): unknown;
  setVariable(identifier: unknown, value: unknown, metadata?: unknown, options?: unknown): void;
  getVariables(identifiers: unknown): Record<string, unknown>;
  updateVariables(updates: unknown, metadata?: unknown, options?: unknown): void;
  listVariables(): Array<Record<string, unknown>>;
  deleteVariable(identifier: unknown): void;
  ref(identifier: unknown): AnyRef;
  exportState(): unknown;
  importState(snapshot: unknown): void;
  stats(): Record<string, number>;
  cleanup(): void;
  watchVariables(identifiers: unknown, callback: unknown, options?: unknown): AnyWatch;
  unwatchVariables(watch: unknown): void;
  listWatchers(): Array<Record<string, unknown>>;
}

interface AnyWatch {
  readonly id: string;
  unwatch(): void;
}

/** The shape of the events watch callbacks get. */
interface AnyEvent {
  readonly kind: string;
  readonly id: string;
  readonly name: string;
  readonly identifier: string;
  readonly oldValue: unknown;
  readonly newValue: unknown;
  readonly version: number;
  readonly metadata: unknown;
}

interface AnyRef {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly version: number;
  get(): unknown;
  set(value: unknown, metadata?: unknown): void;
}

type Pair<T> = Record<Side, T>;

/** Counters across every sequence run in this process (shrinking included). */
export const totals = {
  sequences: 0,
  operations: 0,
  bulkVariables: 0,
  exports: 0,
  divergences: 0,
  /** The most entries and rehashes one wasm table reached. */
  maxTableEntries: 0,
  maxTableRehashes: 0,
};

/** Per check, how often both sides succeeded and how often both failed with each error code. */
export const outcomeCounts: Record<string, Record<string, number>> = {};

/**
 * Watch events the wasm side's callbacks got, by the operation that caused them and the event's kind
 * (`watch` is includeInitial), plus what callbacks did and how watches ended. Printed with FUZZ_STATS=1.
 */
export const watchCounts: Record<string, Record<string, number>> = {};

function countWatch(group: string, key: string, n = 1): void {
  const counts = (watchCounts[group] ??= {});
  counts[key] = (counts[key] ?? 0) + n;
}

function count(what: string, outcome: Outcome): void {
  const key = 'ok' in outcome ? 'ok' : outcome.error.split(' | ', 2).join(':');
  const counts = (outcomeCounts[what] ??= {});
  counts[key] = (counts[key] ?? 0) + 1;
}

const SESSION = 'differential';

async function freshStore(side: Side, existingState?: unknown): Promise<AnyStore> {
  const options = existingState === undefined ? { sessionId: SESSION } : { sessionId: SESSION, existingState };
  const store = side === 'wasm' ? await LocalState.init(options) : await JsLocalState.init(options);
  return store as unknown as AnyStore;
}

// ─── canonical encoding ────────────────────────────────────────────────────

/**
 * A string that is equal for two values exactly when they are deeply equal
 * with Object.is on numbers (NaN equals NaN, -0 differs from 0), the same
 * key order, prototypes (plain, null, class) and frozenness. A property whose
 * value is undefined counts as absent (as in toEqual, and as in every JSON
 * export): JsLocalState keeps `{ min: undefined }` in listed constraints where
 * LocalState, which rebuilds numeric constraints from the wasm bounds, omits it.
 */
export function canon(value: unknown, seen: Set<object> = new Set()): string {
  switch (typeof value) {
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return String(value);
    case 'undefined':
      return 'undefined';
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `function ${value.name}`;
  }
  if (value === null) return 'null';
  const object = value as object;
  if (seen.has(object)) return '<cycle>';
  seen.add(object);
  const frozen = Object.isFrozen(object) ? '#' : '';
  let out: string;
  if (Array.isArray(object)) {
    out = `${frozen}[${object.map((item) => canon(item, seen)).join(',')}]`;
  } else if (ArrayBuffer.isView(object)) {
    out = `${object.constructor.name}(${canon(Array.from(object as unknown as ArrayLike<unknown>), seen)})`;
  } else if (object instanceof RegExp) {
    out = `/${object.source}/${object.flags}`;
  } else {
    const proto = Object.getPrototypeOf(object);
    const tag = proto === Object.prototype ? '' : proto === null ? 'null:' : `${proto.constructor?.name ?? '?'}:`;
    const record = object as Record<string, unknown>;
    const keys = definedKeys(record).map((key) => `${JSON.stringify(key)}:${canon(record[key], seen)}`);
    out = `${frozen}${tag}{${keys.join(',')}}`;
  }
  seen.delete(object);
  return out;
}

/** The same test as comparing canon() strings, without building them (canon is for messages). */
export function deepSame(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) {
    // Two functions (or symbols) are "the same" to canon when their names match; not expected in results.
    return typeof a === 'function' && typeof b === 'function' ? a.name === b.name : false;
  }
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b) || Object.isFrozen(a) !== Object.isFrozen(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    if (a.length !== other.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepSame(a[i], other[i])) return false;
    return true;
  }
  if (ArrayBuffer.isView(a) || a instanceof RegExp) return canon(a) === canon(b);
  return sameRecords(a as Record<string, unknown>, b as Record<string, unknown>, undefined);
}

/** Same defined keys in the same order, and deepSame values (keys in `skip` aside). */
function sameRecords(left: Record<string, unknown>, right: Record<string, unknown>, skip: ReadonlySet<string> | undefined): boolean {
  let keys = Object.keys(left);
  let otherKeys = Object.keys(right);
  if (keys.length !== otherKeys.length || keys.some((key, i) => key !== otherKeys[i])) {
    keys = definedKeys(left);
    otherKeys = definedKeys(right);
    if (keys.length !== otherKeys.length) return false;
  }
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (key !== otherKeys[i]) return false;
    if (skip?.has(key) !== true && !deepSame(left[key], right[key])) return false;
  }
  return true;
}

/** Own enumerable keys whose value is not undefined, in order. */
function definedKeys(record: Record<string, unknown>): string[] {
  return Object.keys(record).filter((key) => record[key] !== undefined);
}

export type Outcome = { readonly ok: unknown } | { readonly error: string };

export function sameOutcome(a: Outcome, b: Outcome): boolean {
  if ('ok' in a) return 'ok' in b && deepSame(a.ok, b.ok);
  return 'error' in b && a.error === b.error;
}

export function describeError(error: StateError): string {
  const parts = [`${error.code}`, `rule=${error.rule ?? '-'}`, `path=${error.path ?? '-'}`, error.message];
  if (error.errors !== undefined) parts.push(`errors=${canon(error.errors)}`);
  return parts.join(' | ');
}

class NotAStateError extends Error {}

/** What a watch callback (or its filter or onError handler) throws on purpose. */
class CallbackError extends Error {}

function failure(side: Side, error: unknown): NotAStateError {
  if (error instanceof NotAStateError) return error;
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return new NotAStateError(`${side} threw something other than a StateError: ${text}`);
}

/** An error a watch callback passed on: a StateError (from a write it made) or a deliberate CallbackError. */
function describeCallbackError(side: Side, error: unknown): string {
  if (error instanceof StateError) return describeError(error);
  if (error instanceof CallbackError) return `callback: ${error.message}`;
  throw failure(side, error);
}

/** A StateError, or the AggregateError of a delivery whose callbacks threw; anything else is a failure. */
function describeThrown(side: Side, error: unknown): string {
  if (error instanceof StateError) return describeError(error);
  if (error instanceof AggregateError) {
    const inner = error.errors.map((e: unknown) => describeCallbackError(side, e));
    return `AggregateError | ${error.errors.length} | ${error.message} | ${inner.join(' ; ')}`;
  }
  throw failure(side, error);
}

function attempt(side: Side, fn: () => unknown): Outcome {
  try {
    return { ok: fn() };
  } catch (error) {
    return { error: describeThrown(side, error) };
  }
}

async function attemptAsync(side: Side, fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (error) {
    return { error: describeThrown(side, error) };
  }
}

export function canonOutcome(outcome: Outcome): string {
  return 'ok' in outcome ? `ok ${canon(outcome.ok)}` : `error ${outcome.error}`;
}

/** The two strings around their first difference, for a readable failure. */
export function around(a: string, b: string): [string, string] {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 150);
  const cut = (s: string) => `${from > 0 ? '…' : ''}${s.slice(from, i + 250)}${s.length > i + 250 ? '…' : ''}`;
  return [cut(a), cut(b)];
}

export class Divergence extends Error {}

/** The five operations both runners call the same way on each side (what the redis runner's stores share with these). */
export interface PlainCalls {
  getVariable(identifier: never): unknown;
  setVariable(identifier: never, value: unknown, metadata?: never, options?: never): unknown;
  getVariables(identifiers: never): unknown;
  updateVariables(updates: never, metadata?: never, options?: never): unknown;
  deleteVariable(identifier: never): unknown;
}

/** How a runner turns an op's identifiers, fitted values and guards into arguments. */
export interface Arguments {
  resolve(ident: Ident): unknown;
  valueFor(target: unknown, value: unknown): unknown;
  expected(target: unknown, guard: Guard): unknown;
}

/**
 * The call each side makes for a get, set, getVariables, updateVariables or delete, and the label its
 * outcomes are compared under; undefined for the ops a runner handles itself. One definition for the
 * in-process runner and the Redis one (which awaits what the call returns).
 */
export function storeCall(op: Op, args: Arguments): { readonly what: string; readonly call: (store: PlainCalls) => unknown } | undefined {
  // The stores' own parameter types are wider than any op can produce: the calls pass what the op holds.
  type Loose = { [K in keyof PlainCalls]: (...a: unknown[]) => unknown };
  const call = (fn: (s: Loose) => unknown) => (store: PlainCalls) => fn(store as unknown as Loose);
  switch (op.op) {
    case 'get': {
      const target = args.resolve(op.target);
      return { what: 'getVariable outcomes', call: call((s) => s.getVariable(target)) };
    }
    case 'set': {
      const target = args.resolve(op.target);
      const value = args.valueFor(target, op.value);
      if (op.guard !== undefined) {
        const options = { ifVersion: args.expected(target, op.guard) };
        return { what: 'setVariable ifVersion outcomes', call: call((s) => s.setVariable(target, value, op.metadata, options)) };
      }
      return {
        what: 'setVariable outcomes',
        call: call((s) => (op.metadata === undefined ? s.setVariable(target, value) : s.setVariable(target, value, op.metadata))),
      };
    }
    case 'getVariables': {
      const targets = op.targets === 'not-an-array' ? 'a' : op.targets.map((t) => args.resolve(t));
      return { what: 'getVariables outcomes', call: call((s) => s.getVariables(targets)) };
    }
    case 'updateVariables': {
      const pairs = op.items.map(([ident, value]) => {
        const target = args.resolve(ident);
        return [target, args.valueFor(target, value)] as const;
      });
      // A fresh container per side: a Map may hold non-string keys; an object keeps "__proto__" as an own key.
      const build = () =>
        op.form === 'map' ? new Map<unknown, unknown>(pairs) : ownObject(pairs.map(([key, value]) => [String(key), value] as const));
      if (op.guards !== undefined) {
        const guards = op.guards.map(([ident, guard]) => {
          const target = args.resolve(ident);
          return [String(target), args.expected(target, guard)] as const;
        });
        return {
          what: 'updateVariables ifVersions outcomes',
          call: call((s) => s.updateVariables(build(), op.metadata, { ifVersions: ownObject(guards) })),
        };
      }
      return {
        what: 'updateVariables outcomes',
        call: call((s) => (op.metadata === undefined ? s.updateVariables(build()) : s.updateVariables(build(), op.metadata))),
      };
    }
    case 'delete': {
      const target = args.resolve(op.target);
      return { what: 'deleteVariable outcomes', call: call((s) => s.deleteVariable(target)) };
    }
    default:
      return undefined;
  }
}

// ─── the run ───────────────────────────────────────────────────────────────

interface Bulk {
  readonly prefix: string;
  count: number;
  /** The type of the latest registration under this prefix. */
  type: 'float' | 'integer' | 'boolean';
}

/** One side's view of a watch made by a watch op (or by a callback). */
interface WatchHandle {
  /** The same on both sides: `w<n>` for a watch op, `w<n>.<m>` for a watch made by its callback. */
  readonly label: string;
  /** The store it was made on (a reload replaces the run's stores, not this). */
  readonly store: AnyStore;
  readonly controller: AbortController | undefined;
  /** What watchVariables returned; absent when it threw after registering (includeInitial). */
  watch: AnyWatch | undefined;
  id: string | undefined;
}

/** A watch action with its targets resolved (the same strings on both sides). */
type Act =
  | { readonly do: 'log' | 'echo' | 'cleanup' }
  | { readonly do: 'throw'; readonly every: boolean }
  | { readonly do: 'set'; readonly target: unknown; readonly self: boolean; readonly value: unknown; readonly every: boolean }
  | { readonly do: 'delete'; readonly target: unknown; readonly self: boolean }
  | { readonly do: 'batch'; readonly pairs: ReadonlyArray<readonly [unknown, unknown]>; readonly withSelf: boolean }
  | { readonly do: 'unwatch'; readonly which: 'self' | number }
  | { readonly do: 'watch'; readonly targets: readonly unknown[]; readonly includeInitial: boolean };

/** How a watch is made: the op's options, the action resolved. */
interface WatchSpec {
  readonly includeInitial: boolean;
  readonly filter: WatchFilter;
  readonly act: Act;
  readonly onError: 'none' | 'log' | 'rethrow';
  readonly signal: 'none' | 'live' | 'aborted';
  readonly odd: Extract<Op, { op: 'watch' }>['odd'];
}

/** A callback's state on one side: whether its once-only action ran, and its writes in the current step. */
interface CallbackState {
  done: boolean;
  writes: number;
  nested: number;
}

/** Writes one callback may make per step: enough for a feedback loop to reach MAX_DELIVERY_ROUNDS (100). */
const WRITES_PER_STEP = 110;

export const FILTERS: Readonly<Record<Exclude<WatchFilter, 'none'>, (oldValue: unknown, newValue: unknown) => boolean>> = {
  always: () => true,
  changed: (oldValue, newValue) => !Object.is(oldValue, newValue),
  numbers: (oldValue, newValue) => typeof newValue === 'number' || typeof oldValue === 'number',
  throws: () => {
    throw new CallbackError('filter throws');
  },
};

/** A watch event as logged: every field, numbers by Object.is (canon), taken when delivered. */
export function eventRecord(label: string, event: AnyEvent): string {
  const { kind, id, name, identifier, oldValue, newValue, version, metadata } = event;
  return `${label} ${canon({ kind, id, name, identifier, oldValue, newValue, version, metadata })}`;
}

class Run {
  stores!: Pair<AnyStore>;
  /** Ids returned by successful single registrations, in order (the same on both sides, or the run failed). */
  readonly ids: string[] = [];
  readonly refs: Array<Pair<AnyRef | undefined> & { readonly type: TypeName }> = [];
  /** JSON texts of earlier exports, for importEarlier. */
  readonly snapshots: Array<Pair<string>> = [];
  readonly bulks: Bulk[] = [];
  step = 0;
  current: Op | undefined;
  /** Every id the current stores have listed: a generated id must be new (ids are never generated twice). */
  private seenIds = new Set<string>();
  /** The variables before the current step (bulk ones aside), as the last check() listed them. */
  private live: Array<Record<string, unknown>> = [];
  /** Each side's watches, in the order made (watch ops and callbacks alike); unwatch ops pick by index. */
  readonly watches: Pair<WatchHandle[]> = { wasm: [], js: [] };
  /** Each side's event log: what its callbacks got, normalized. */
  readonly logs: Pair<string[]> = { wasm: [], js: [] };
  /** Log entries already compared. */
  private compared = 0;
  private nextLabel = 1;
  private readonly callbackStates: CallbackState[] = [];
  /** The variables the current store's watches watch, as the last check() listed them (by listWatchers()). */
  private watched: Array<Record<string, unknown>> = [];
  private watchedIdentifiers: string[] = [];
  /** `<op>:<event kind>` of the events delivered in this step (for the counts). */
  private readonly delivered = new Set<string>();
  /** Something other than a StateError thrown inside a callback (a bug even if the dispatcher swallowed it). */
  private unexpected: NotAStateError | undefined;

  beginStep(op: Op): void {
    this.step++;
    this.current = op;
    for (const state of this.callbackStates) state.writes = 0;
  }

  private liveVariables(): Array<Record<string, unknown>> {
    return this.live;
  }

  private remember(list: Array<Record<string, unknown>>): void {
    const single = list.filter((v) => !String(v.name).startsWith('bulk'));
    this.live = single.length > 0 ? single : list;
  }

  /** The value a write sends: a fitted value picks the candidate for the target's type. */
  valueFor(target: unknown, value: unknown): unknown {
    if (!isFit(value)) return value;
    const variables = this.liveVariables();
    const holder = variables.find((v) => v.id === target) ?? variables.find((v) => v.name === target);
    const bulk = typeof target === 'string' ? this.bulks.find((b) => target.startsWith(b.prefix)) : undefined;
    const type = (holder?.type as TypeName | undefined) ?? bulk?.type ?? 'float';
    return value.$fit[type];
  }

  /** The version a guard names for `target` now: read from the JsLocalState side (the two agree on versions after every step). */
  expected(target: unknown, guard: Guard): unknown {
    if (guard.kind === 'raw') return guard.value;
    let version = 0;
    try {
      version = this.stores.js.ref(target).version;
    } catch {
      // a missing variable: any version will do, the write must be not_found
    }
    return guard.kind === 'current' ? version : Math.max(0, version + guard.by);
  }

  /** Model check: a newly generated id was never listed before in this store. */
  private generated(id: string): void {
    if (this.seenIds.has(id)) {
      throw new Divergence(
        `step ${this.step} ${JSON.stringify(this.current?.op)}: registration generated the id ${JSON.stringify(id)} a second time`,
      );
    }
    this.seenIds.add(id);
  }

  async start(): Promise<void> {
    this.stores = { wasm: await freshStore('wasm'), js: await freshStore('js') };
  }

  fail(what: string, wasm: string, js: string, labels: readonly [string, string] = ['wasm', 'js']): never {
    totals.divergences++;
    const [a, b] = around(wasm, js);
    const width = Math.max(labels[0].length, labels[1].length) + 1;
    throw new Divergence(
      `step ${this.step} ${JSON.stringify(this.current?.op)}: ${what} differ\n  ${`${labels[0]}:`.padEnd(width)} ${a}\n  ${`${labels[1]}:`.padEnd(width)} ${b}`,
    );
  }

  same(what: string, wasm: string, js: string, labels?: readonly [string, string]): void {
    if (wasm !== js) this.fail(what, wasm, js, labels);
  }

  resolve(ident: Ident): unknown {
    switch (ident.by) {
      case 'name':
        return ident.name;
      case 'id':
        return this.ids.length === 0 ? 'var_a_1' : this.ids[ident.index % this.ids.length];
      case 'bulk': {
        const bulk = this.bulks[ident.batch % Math.max(1, this.bulks.length)];
        return bulk === undefined ? 'bulk0_0' : `${bulk.prefix}${ident.index % bulk.count}`;
      }
      case 'live': {
        const variables = this.liveVariables();
        const variable = variables[ident.index % Math.max(1, variables.length)];
        return variable === undefined ? 'a' : ident.via === 'id' ? variable.id : variable.name;
      }
      case 'watched': {
        const variable = this.watched[ident.index % Math.max(1, this.watched.length)];
        if (variable === undefined) return this.resolve({ ...ident, by: 'live' });
        return ident.via === 'id' ? variable.id : variable.name;
      }
      case 'raw':
        return ident.value;
    }
  }

  /** Fails unless the outcomes agree. */
  sameOutcomes(what: string, wasm: Outcome, js: Outcome): void {
    if (!sameOutcome(wasm, js)) this.fail(what, canonOutcome(wasm), canonOutcome(js));
  }

  /** Runs `fn` on each side and checks the outcomes agree; returns them. */
  both(what: string, fn: (store: AnyStore, side: Side) => unknown): Pair<Outcome> {
    const wasm = attempt('wasm', () => fn(this.stores.wasm, 'wasm'));
    const js = attempt('js', () => fn(this.stores.js, 'js'));
    this.sameOutcomes(what, wasm, js);
    count(what, wasm);
    return { wasm, js };
  }

  async apply(op: Op): Promise<void> {
    const plain = storeCall(op, this);
    if (plain !== undefined) {
      this.both(plain.what, plain.call);
      return;
    }
    switch (op.op) {
      case 'register': {
        const outcome = this.both('register outcomes', (s) =>
          op.options === undefined
            ? s.registerVariable(op.name, op.type, op.value)
            : s.registerVariable(op.name, op.type, op.value, op.options),
        );
        if ('ok' in outcome.wasm) {
          this.generated(outcome.wasm.ok as string);
          this.ids.push(outcome.wasm.ok as string);
        }
        return;
      }
      case 'populate': {
        const outcome = this.both('populate outcomes', (s, side) =>
          POPULATION.map(([type, value, options], i) => {
            const name = NAMES[(op.offset + i) % NAMES.length] as string;
            return canonOutcome(attempt(side, () => s.registerVariable(name, type, value(), options())));
          }),
        );
        if ('ok' in outcome.wasm) {
          for (const result of outcome.wasm.ok as string[]) {
            if (!result.startsWith('ok ')) continue;
            const id = JSON.parse(result.slice(3)) as string;
            this.generated(id);
            this.ids.push(id);
          }
        }
        return;
      }
      case 'ref': {
        const target = this.resolve(op.target);
        const created: Pair<AnyRef | undefined> = { wasm: undefined, js: undefined };
        this.both('ref outcomes', (s, side) => {
          const ref = s.ref(target);
          created[side] = ref;
          return { id: ref.id, name: ref.name, type: ref.type };
        });
        if (created.wasm !== undefined) this.refs.push({ ...created, type: created.wasm.type as TypeName });
        return;
      }
      case 'refGet': {
        const pair = this.refs[op.ref % Math.max(1, this.refs.length)];
        if (pair === undefined) return;
        this.both('ref.get outcomes', (_, side) => (pair[side] as AnyRef).get());
        this.both('ref.version outcomes', (_, side) => (pair[side] as AnyRef).version);
        return;
      }
      case 'refSet': {
        const watchedIds = new Set(this.watched.map((v) => v.id));
        const toWatched = op.watched === true ? this.refs.filter((r) => watchedIds.has(r.wasm?.id)) : [];
        const refs = toWatched.length > 0 ? toWatched : this.refs;
        const pair = refs[op.ref % Math.max(1, refs.length)];
        if (pair === undefined) return;
        const value = isFit(op.value) ? op.value.$fit[pair.type] : op.value;
        this.both('ref.set outcomes', (_, side) => {
          const ref = pair[side] as AnyRef;
          return op.metadata === undefined ? ref.set(value) : ref.set(value, op.metadata);
        });
        this.both('ref.version outcomes', (_, side) => (pair[side] as AnyRef).version);
        return;
      }
      case 'export':
        await this.exportAndImport();
        return;
      case 'reload':
        await this.reload(op.mutation, op.viaInit);
        return;
      case 'importEarlier': {
        const snapshot = this.snapshots[op.snapshot % Math.max(1, this.snapshots.length)];
        if (snapshot === undefined) return;
        this.both('importState (merge) outcomes', (s, side) => s.importState(JSON.parse(snapshot[side])));
        return;
      }
      case 'bulkRegister': {
        const reused = op.reuse === null ? undefined : this.bulks[op.reuse % Math.max(1, this.bulks.length)];
        const bulk = reused ?? { prefix: `bulk${this.bulks.length}_`, count: 0, type: op.type };
        if (reused === undefined) this.bulks.push(bulk);
        bulk.count = Math.max(bulk.count, op.count);
        bulk.type = op.type;
        totals.bulkVariables += op.count;
        const options = op.bounded && op.type !== 'boolean' ? { constraints: { min: -500, max: 500 } } : undefined;
        const outcome = this.both('bulk register outcomes', (s, side) => {
          const results: Outcome[] = [];
          for (let i = 0; i < op.count; i++) {
            results.push(attempt(side, () => s.registerVariable(`${bulk.prefix}${i}`, op.type, bulkValue(op.type, i), options)));
          }
          return results;
        });
        if ('ok' in outcome.wasm)
          for (const result of outcome.wasm.ok as Outcome[]) if ('ok' in result) this.generated(result.ok as string);
        return;
      }
      case 'bulkDelete': {
        const bulk = this.bulks[op.batch % Math.max(1, this.bulks.length)];
        if (bulk === undefined) return;
        this.both('bulk delete outcomes', (s, side) => {
          const results: string[] = [];
          for (let i = op.start; i < bulk.count; i += op.stride) {
            const outcome = attempt(side, () => s.deleteVariable(`${bulk.prefix}${i}`));
            results.push('ok' in outcome ? 'ok' : outcome.error);
          }
          return results;
        });
        return;
      }
      case 'bulkUpdate': {
        const bulk = this.bulks[op.batch % Math.max(1, this.bulks.length)];
        if (bulk === undefined) return;
        const updates = new Map<string, unknown>();
        for (let i = op.start; i < bulk.count; i += op.stride) updates.set(`${bulk.prefix}${i}`, bulkValue('integer', i + op.shift));
        this.both('bulk update outcomes', (s) => s.updateVariables(new Map(updates), { bulk: op.stride }));
        return;
      }
      case 'cleanup':
        this.countEnding('cleanup');
        this.both('cleanup outcomes', (s) => s.cleanup());
        return;
      case 'watch':
        this.watchOp(op);
        return;
      case 'unwatch':
        this.unwatchOp(op.target);
        return;
      case 'listWatchers':
        this.both('listWatchers outcomes', (s) => s.listWatchers().map(withoutCreatedAt));
        return;
    }
  }

  // ─── watching ────────────────────────────────────────────────────────────

  /** Counts an operation that ends every watch of the current stores (cleanup, or a reload replacing them). */
  private countEnding(what: string): void {
    const active = attempt('wasm', () => this.stores.wasm.listWatchers().length);
    if ('ok' in active && (active.ok as number) > 0) {
      countWatch('endings', `${what} with watchers`);
      countWatch('endings', `watchers ended by ${what}`, active.ok as number);
    }
  }

  private watchOp(op: Extract<Op, { op: 'watch' }>): void {
    const targets = op.targets === 'not-an-array' ? 'a' : op.targets === 'empty' ? [] : op.targets.map((ident) => this.resolve(ident));
    const spec: WatchSpec = {
      includeInitial: op.includeInitial,
      filter: op.filter,
      act: this.resolveAction(op.action),
      onError: op.onError,
      signal: op.signal,
      odd: op.odd,
    };
    const label = `w${this.nextLabel++}`;
    const outcome = this.both('watchVariables outcomes', (s, side) => this.watchOn(side, s, targets, spec, label));
    countWatch('watch ops', 'ok' in outcome.wasm ? 'ok' : (outcome.wasm.error.split(' | ', 1)[0] as string));
  }

  private resolveAction(action: WatchAction): Act {
    switch (action.do) {
      case 'log':
      case 'echo':
      case 'cleanup':
        return { do: action.do };
      case 'throw':
        return action;
      case 'set': {
        if (action.target === 'self') return { do: 'set', target: undefined, self: true, value: action.value, every: action.every };
        const target = this.resolve(action.target);
        return { do: 'set', target, self: false, value: this.valueFor(target, action.value), every: action.every };
      }
      case 'delete':
        return action.target === 'self'
          ? { do: 'delete', target: undefined, self: true }
          : { do: 'delete', target: this.resolve(action.target), self: false };
      case 'batch':
        return {
          do: 'batch',
          pairs: action.items.map(([ident, value]) => {
            const target = this.resolve(ident);
            return [target, this.valueFor(target, value)] as const;
          }),
          withSelf: action.withSelf,
        };
      case 'unwatch':
        return action;
      case 'watch':
        return { do: 'watch', targets: action.targets.map((ident) => this.resolve(ident)), includeInitial: action.includeInitial };
    }
  }

  /**
   * watchVariables on one side's store, with a logging callback. Returns what the op compares
   * (the watch's id); a watch that is registered is captured even when the call threw (a callback
   * failing during includeInitial), its id then found through listWatchers.
   */
  private watchOn(side: Side, store: AnyStore, targets: unknown, spec: WatchSpec, label: string): unknown {
    const controller = spec.signal === 'none' ? undefined : new AbortController();
    if (spec.signal === 'aborted') controller?.abort();
    const handle: WatchHandle = { label, store, controller, watch: undefined, id: undefined };
    const state: CallbackState = { done: false, writes: 0, nested: 0 };
    this.callbackStates.push(state);
    const options: Record<string, unknown> = {};
    if (spec.includeInitial) options.includeInitial = true;
    if (spec.filter !== 'none') options.filter = FILTERS[spec.filter];
    if (controller !== undefined) options.signal = controller.signal;
    if (spec.onError === 'log') {
      options.onError = (error: unknown, event: AnyEvent) => {
        this.logs[side].push(`${label} onError ${this.callbackErrorText(side, error)} on ${eventRecord(label, event)}`);
      };
    } else if (spec.onError === 'rethrow') {
      options.onError = (error: unknown) => {
        throw new CallbackError(`${label} onError rethrows (${this.callbackErrorText(side, error)})`);
      };
    }
    const passed = oddWatchOptions(spec.odd, options);
    const callback = spec.odd === 'callback-not-function' ? 'log' : this.callback(side, store, handle, spec.act, state);
    const before = new Set(this.watcherIds(store));
    try {
      const watch = store.watchVariables(targets, callback, passed);
      handle.watch = watch;
      handle.id = watch.id;
      this.watches[side].push(handle);
      return { id: watch.id };
    } catch (error) {
      // Registered (and still active) although the call threw: the oldest watch that is new.
      const added = this.watcherIds(store).filter((id) => !before.has(id));
      added.sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
      if (added[0] !== undefined) {
        handle.id = added[0];
        this.watches[side].push(handle);
      }
      throw error;
    }
  }

  private watcherIds(store: AnyStore): string[] {
    try {
      return store.listWatchers().map((info) => info.id as string);
    } catch {
      return []; // closed
    }
  }

  /** The text a callback error is logged as; anything other than a StateError or a CallbackError is recorded as a failure. */
  private callbackErrorText(side: Side, error: unknown): string {
    try {
      return describeCallbackError(side, error);
    } catch (bug) {
      this.unexpected ??= failure(side, bug);
      return 'unexpected';
    }
  }

  /** The callback of one watch on one side: logs the event, then performs its action. */
  private callback(side: Side, store: AnyStore, handle: WatchHandle, act: Act, state: CallbackState): (event: AnyEvent) => void {
    return (event) => {
      this.logs[side].push(eventRecord(handle.label, event));
      if (side === 'wasm') this.delivered.add(`${this.current?.op ?? 'end'}:${event.kind}`);
      const once = (): boolean => {
        if (state.done) return false;
        state.done = true;
        return true;
      };
      const budget = (): boolean => state.writes++ < WRITES_PER_STEP;
      const run = (what: string, fn: () => void): void => {
        if (side === 'wasm') countWatch('callback actions', what);
        try {
          fn();
        } catch (error) {
          // Passed on to the dispatcher (AggregateError or onError); a non-StateError is recorded here as well,
          // since a watch_loop drops the errors of its delivery.
          if (!(error instanceof StateError || error instanceof CallbackError)) this.unexpected ??= failure(side, error);
          throw error;
        }
      };
      switch (act.do) {
        case 'log':
          return;
        case 'throw':
          if (act.every || once()) {
            run('throw', () => {
              throw new CallbackError(`${handle.label} throws on ${event.kind} of ${event.identifier} v${event.version}`);
            });
          }
          return;
        case 'set':
          if (act.every ? budget() : once()) {
            const target = act.self ? event.identifier : act.target;
            const value = act.self ? this.valueFor(event.id, act.value) : act.value;
            run(act.self ? 'set self' : 'set other', () => store.setVariable(target, value));
          }
          return;
        case 'echo':
          if (event.kind !== 'delete' && budget()) run('echo', () => store.setVariable(event.identifier, event.newValue));
          return;
        case 'delete':
          if (once()) run(act.self ? 'delete self' : 'delete other', () => store.deleteVariable(act.self ? event.identifier : act.target));
          return;
        case 'batch':
          if (once()) {
            const pairs: Array<readonly [unknown, unknown]> = [...act.pairs];
            if (act.withSelf && event.kind !== 'delete') pairs.unshift([event.identifier, event.newValue]);
            run('batch', () => store.updateVariables(ownObject(pairs.map(([key, value]) => [String(key), value] as const))));
          }
          return;
        case 'unwatch':
          if (once()) {
            const target = act.which === 'self' ? handle : this.watches[side][act.which % Math.max(1, this.watches[side].length)];
            run('unwatch', () => {
              if (target !== undefined) stopWatch(target, 'method', store);
            });
          }
          return;
        case 'watch':
          if (once()) {
            const nested: WatchSpec = {
              includeInitial: act.includeInitial,
              filter: 'none',
              act: { do: 'log' },
              onError: 'none',
              signal: 'none',
              odd: 'none',
            };
            const label = `${handle.label}.${++state.nested}`;
            run('watch', () => {
              this.watchOn(side, store, act.targets, nested, label);
            });
          }
          return;
        case 'cleanup':
          if (once()) run('cleanup', () => store.cleanup());
          return;
      }
    };
  }

  private unwatchOp(ref: WatchRef): void {
    if (ref.by === 'raw') {
      this.both('unwatchVariables(raw) outcomes', (s) => s.unwatchVariables(ref.value));
      return;
    }
    if (this.watches.wasm.length !== this.watches.js.length) {
      this.fail('captured watches', `${this.watches.wasm.length} watches`, `${this.watches.js.length} watches`);
    }
    const before = attempt('wasm', () => this.stores.wasm.listWatchers().length);
    this.both(`unwatch (${ref.via}) outcomes`, (s, side) => {
      const handles = this.watches[side];
      const handle = handles[handles.length - 1 - (ref.index % Math.max(1, handles.length))];
      if (handle !== undefined) stopWatch(handle, ref.via, s);
    });
    const after = attempt('wasm', () => this.stores.wasm.listWatchers().length);
    if ('ok' in before && 'ok' in after) countWatch('unwatch ops', before.ok === after.ok ? 'no active watch stopped' : 'stopped a watch');
  }

  /**
   * exportState → JSON on both sides; the snapshots must agree (timestamps and
   * the backend's name aside). Returns the JSON texts, or undefined when both
   * failed alike (a closed store).
   */
  private exportBoth(what: string): Pair<string> | undefined {
    const texts: Pair<Outcome> = {
      wasm: attempt('wasm', () => JSON.stringify(this.stores.wasm.exportState())),
      js: attempt('js', () => JSON.stringify(this.stores.js.exportState())),
    };
    if (!('ok' in texts.wasm && 'ok' in texts.js)) {
      this.sameOutcomes(`${what} outcomes`, texts.wasm, texts.js);
      count(what, texts.wasm);
      return undefined;
    }
    const wasm = texts.wasm.ok as string;
    const js = texts.js.ok as string;
    this.sameOutcomes(`${what} (timestamps aside)`, { ok: normalizeSnapshot(JSON.parse(wasm)) }, { ok: normalizeSnapshot(JSON.parse(js)) });
    count(what, texts.wasm);
    return { wasm, js };
  }

  /** Export → JSON on both sides (compared), then import into fresh stores of both backends. */
  private async exportAndImport(): Promise<void> {
    totals.exports++;
    const texts = this.exportBoth('exportState');
    if (texts === undefined) return;
    this.snapshots.push(texts);
    const originals: Pair<unknown> = { wasm: this.stores.wasm.listVariables(), js: this.stores.js.listVariables() };
    // Each snapshot into a fresh store of each backend: same backend and across.
    for (const from of SIDES) {
      const fresh: Pair<AnyStore> = { wasm: await freshStore('wasm'), js: await freshStore('js') };
      const outcomes: Pair<Outcome> = {
        wasm: attempt('wasm', () => fresh.wasm.importState(JSON.parse(texts[from]))),
        js: attempt('js', () => fresh.js.importState(JSON.parse(texts[from]))),
      };
      this.sameOutcomes(`importState of the ${from} export into fresh stores`, outcomes.wasm, outcomes.js);
      if (!('ok' in outcomes.wasm)) {
        this.fail(`re-import of a valid ${from} export`, canonOutcome(outcomes.wasm), 'ok', ['actual', 'expected']);
      }
      for (const into of SIDES) {
        // An import moves every variable exactly: values, versions, metadata and timestamps.
        const imported = attempt(into, () => fresh[into].listVariables());
        if (!sameOutcome(imported, { ok: originals[from] })) {
          this.fail(
            `listVariables after importing the ${from} export into a fresh ${into} store`,
            canonOutcome(imported),
            canonOutcome({ ok: originals[from] }),
            [`imported into ${into}`, `exported from ${from}`],
          );
        }
        auditTable(this, fresh[into], into);
      }
      // Ids that arrived by import are never generated again.
      this.sameOutcomes(
        `register after importing the ${from} export`,
        attempt('wasm', () => fresh.wasm.registerVariable('a', 'float', 1)),
        attempt('js', () => fresh.js.registerVariable('a', 'float', 1)),
      );
      const after: Pair<Outcome> = {
        wasm: attempt('wasm', () => fresh.wasm.listVariables()),
        js: attempt('js', () => fresh.js.listVariables()),
      };
      if (!sameLists(after.wasm, after.js)) {
        this.fail(
          `listVariables after register following import of the ${from} export`,
          canonOutcome(withoutTimes(after.wasm)),
          canonOutcome(withoutTimes(after.js)),
        );
      }
    }
  }

  /** Export → JSON → mutate → a fresh store of the same backend imports it; adopted when the import succeeds. */
  private async reload(mutation: Mutation, viaInit: boolean): Promise<void> {
    const texts = this.exportBoth('exportState before reload');
    if (texts === undefined) return;
    this.snapshots.push(texts);
    const snapshots: Pair<unknown> = { wasm: JSON.parse(texts.wasm), js: JSON.parse(texts.js) };
    for (const side of SIDES) mutate(snapshots[side], mutation);
    const next: Pair<AnyStore | undefined> = { wasm: undefined, js: undefined };
    const outcomes: Pair<Outcome> = { wasm: { ok: undefined }, js: { ok: undefined } };
    for (const side of SIDES) {
      outcomes[side] = await attemptAsync(side, async () => {
        if (viaInit) {
          next[side] = await freshStore(side, snapshots[side]);
        } else {
          const store = await freshStore(side);
          store.importState(snapshots[side]);
          next[side] = store;
        }
      });
    }
    this.sameOutcomes('reload (import of a mutated export) outcomes', outcomes.wasm, outcomes.js);
    count('reload', outcomes.wasm);
    if (next.wasm !== undefined && next.js !== undefined) {
      this.countEnding('reload');
      // A new store: it knows the ids it imported, not the ones deleted before the export.
      this.stores = { wasm: next.wasm, js: next.js };
      this.seenIds = new Set();
    }
  }

  /** What must hold after every step. */
  check(): void {
    if (this.unexpected !== undefined) throw this.unexpected;
    this.checkWatches();
    const lists: Pair<Outcome> = {
      wasm: attempt('wasm', () => this.stores.wasm.listVariables()),
      js: attempt('js', () => this.stores.js.listVariables()),
    };
    if (!sameLists(lists.wasm, lists.js)) {
      this.fail('listVariables (timestamps aside)', canonOutcome(withoutTimes(lists.wasm)), canonOutcome(withoutTimes(lists.js)));
    }
    count('listVariables', lists.wasm);
    this.both('stats counters', (s) => {
      const { variableCount, totalOperations, totalUpdates } = s.stats();
      return { variableCount, totalOperations, totalUpdates };
    });
    if (!('ok' in lists.wasm && 'ok' in lists.js)) {
      this.live = [];
      this.watched = [];
      return;
    }
    const list = lists.wasm.ok as Array<Record<string, unknown>>;
    this.remember(list);
    // Each watched identifier's variable (an id wins over an equal name), once each.
    const watched = new Set<Record<string, unknown>>();
    for (const identifier of this.watchedIdentifiers) {
      const variable = list.find((v) => v.id === identifier) ?? list.find((v) => v.name === identifier);
      if (variable !== undefined) watched.add(variable);
    }
    this.watched = [...watched];
    for (const info of list) this.seenIds.add(info.id as string);
    for (const side of SIDES) {
      for (const info of (side === 'wasm' ? lists.wasm.ok : lists.js.ok) as Array<Record<string, unknown>>) {
        const version = info.version;
        if (!(Number.isSafeInteger(version) && (version as number) >= 0)) {
          throw new Divergence(
            `step ${this.step} ${JSON.stringify(this.current?.op)}: ${side} variable ${JSON.stringify(info.id)} has version ${String(version)}, not a safe integer >= 0`,
          );
        }
      }
    }
    auditTable(this, this.stores.wasm, 'wasm', list);
  }

  /** The event logs agree (entries since the last check), and so does listWatchers() (createdAt aside). */
  private checkWatches(): void {
    const { wasm, js } = this.logs;
    if (wasm.length !== js.length || wasm.some((entry, i) => i >= this.compared && entry !== js[i])) {
      this.fail('watch events delivered in this step', wasm.slice(this.compared).join('\n    '), js.slice(this.compared).join('\n    '));
    }
    this.compared = wasm.length;
    for (const key of this.delivered) countWatch('steps delivering events (op:kind)', key);
    this.delivered.clear();
    const listed = this.both('listWatchers (createdAt aside)', (s) => s.listWatchers().map(withoutCreatedAt));
    this.watchedIdentifiers = 'ok' in listed.wasm ? (listed.wasm.ok as Array<{ identifiers: string[] }>).flatMap((w) => w.identifiers) : [];
  }

  /** Compares whole exports at the end of a sequence, then ends both stores (with whatever watches they have). */
  finish(): void {
    this.exportBoth('exportState at the end');
    this.countEnding('the final cleanup');
    this.both('final cleanup outcomes', (s) => s.cleanup());
    this.checkWatches();
  }
}

/** Stops a watch: through its own unwatch(), through `store`.unwatchVariables (object or id), or by aborting its signal. */
function stopWatch(handle: WatchHandle, via: 'method' | 'object' | 'id' | 'abort', store: AnyStore): void {
  switch (via) {
    case 'method':
      if (handle.watch !== undefined) handle.watch.unwatch();
      else store.unwatchVariables(handle.id);
      return;
    case 'object':
      store.unwatchVariables(handle.watch ?? { id: handle.id });
      return;
    case 'id':
      store.unwatchVariables(handle.id);
      return;
    case 'abort':
      if (handle.controller !== undefined) handle.controller.abort();
      else handle.watch?.unwatch();
      return;
  }
}

export function withoutCreatedAt(info: Record<string, unknown>): Record<string, unknown> {
  const { createdAt: _c, ...rest } = info;
  return rest;
}

/** One valid registration of each type: type, value, options (made fresh for each call). */
export const POPULATION: ReadonlyArray<readonly [TypeName, () => unknown, () => unknown]> = [
  ['float', () => 0.7, () => ({ constraints: { min: 0, max: 2 }, description: 'sampling temperature' })],
  ['integer', () => 40, () => ({ constraints: { min: 1, max: 100 } })],
  ['boolean', () => true, () => undefined],
  ['string', () => 'Answer.', () => ({ constraints: { pattern: /^[A-Z]/g, maxLength: 12 }, metadata: { owner: 'tuner' } })],
  ['choice', () => 'greedy', () => ({ constraints: { choices: ['greedy', 'beam'] } })],
  ['module', () => 'Predict', () => ({ constraints: { allowedModules: ['Predict', 'ChainOfThought'] } })],
  ['embedding', () => [0.5, -0, 5e-324], () => ({ constraints: { dimensions: 3 } })],
  ['tensor', () => ({ shape: [2, 1], data: [[-0], [2]] }), () => ({ constraints: { shape: [2, 1] } })],
];

function bulkValue(type: 'float' | 'integer' | 'boolean', i: number): unknown {
  if (type === 'boolean') return i % 3 === 0;
  if (type === 'integer') return (i % 1200) - 600;
  const specials = [Number.NaN, -0, Number.POSITIVE_INFINITY, 5e-324];
  return i % 17 === 0 ? specials[(i / 17) % specials.length] : (i % 1300) * 0.75 - 600;
}

/** A snapshot without what may differ between backends: timestamps and the backend's name. */
export function normalizeSnapshot(snapshot: unknown): unknown {
  const s = snapshot as { variables: Record<string, Record<string, unknown>>; metadata: Record<string, unknown> };
  for (const variable of Object.values(s.variables)) {
    delete variable.createdAt;
    delete variable.lastUpdatedAt;
  }
  delete s.metadata.backend;
  delete s.metadata.createdAt;
  const lastImport = s.metadata.lastImport as Record<string, unknown> | undefined;
  if (lastImport !== undefined) delete lastImport.at;
  return s;
}

const TIMES = new Set(['createdAt', 'lastUpdatedAt']);

/** listVariables() outcomes equal, createdAt and lastUpdatedAt aside. */
export function sameLists(a: Outcome, b: Outcome): boolean {
  if (!('ok' in a && 'ok' in b)) return sameOutcome(a, b);
  const left = a.ok as Array<Record<string, unknown>>;
  const right = b.ok as Array<Record<string, unknown>>;
  if (left.length !== right.length) return false;
  for (let i = 0; i < left.length; i++) {
    if (!sameRecords(left[i] as Record<string, unknown>, right[i] as Record<string, unknown>, TIMES)) return false;
  }
  return true;
}

export function withoutTimes(outcome: Outcome): Outcome {
  if (!('ok' in outcome)) return outcome;
  return {
    ok: (outcome.ok as Array<Record<string, unknown>>).map((info) => {
      const { createdAt: _c, lastUpdatedAt: _u, ...rest } = info;
      return rest;
    }),
  };
}

/** The raw exports of a LocalState's wasm table (see assembly/ABI.md), for the audit. */
interface CoreExports {
  ls_find(key: number): number;
  ls_count(): number;
  ls_next(from: number): number;
  ls_key_at(handle: number): number;
}

/** Finds the store's wasm instance. Not public API: the store keeps it as `table.core` (or, earlier, `core`). */
function coreOf(store: AnyStore): CoreExports {
  const internals = store as unknown as { table?: { core?: { exports?: CoreExports } }; core?: { exports?: CoreExports } };
  const exports = internals.table?.core?.exports ?? internals.core?.exports;
  if (exports === undefined || typeof exports.ls_next !== 'function') {
    throw new Error(
      'differential audit: cannot find the wasm exports of LocalState (store.table.core); update coreOf in test/differential/runner.ts',
    );
  }
  return exports;
}

/**
 * The wasm table holds exactly the live numeric variables, and its hashed
 * index (probe chains, backward-shift deletion, rehashes) finds every live
 * entry by its key. The store reads values by handle, so a broken probe chain
 * would otherwise only show later, when a delete misses its entry.
 */
function auditTable(run: Run, store: AnyStore, side: Side, listed?: Array<Record<string, unknown>>): void {
  if (side !== 'wasm') return;
  const where = `step ${run.step} ${JSON.stringify(run.current?.op)}`;
  let list: Array<Record<string, unknown>>;
  try {
    list = listed ?? store.listVariables();
  } catch {
    return; // closed
  }
  const numeric = list.filter((v) => v.type === 'float' || v.type === 'integer' || v.type === 'boolean').length;
  const stats = store.stats();
  totals.maxTableEntries = Math.max(totals.maxTableEntries, stats.tableEntries ?? 0);
  totals.maxTableRehashes = Math.max(totals.maxTableRehashes, stats.tableRehashes ?? 0);
  if (stats.tableEntries !== numeric) {
    throw new Divergence(`${where}: stats().tableEntries is ${stats.tableEntries} for ${numeric} numeric variables`);
  }
  const exports = coreOf(store);
  if (exports.ls_count() !== numeric) {
    throw new Divergence(`${where}: ls_count() is ${exports.ls_count()} for ${numeric} numeric variables`);
  }
  let live = 0;
  for (let handle = exports.ls_next(0); handle >= 0; handle = exports.ls_next(handle + 1)) {
    live++;
    const key = exports.ls_key_at(handle);
    const found = exports.ls_find(key);
    if (found !== handle) throw new Divergence(`${where}: ls_find(${key}) is ${found}, but the entry with that key is at handle ${handle}`);
  }
  if (live !== numeric) throw new Divergence(`${where}: the wasm table has ${live} live entries for ${numeric} numeric variables`);
}

function pick<T>(record: Record<string, T>, n: number): [string, T] | undefined {
  const keys = Object.keys(record);
  if (keys.length === 0) return undefined;
  const key = keys[n % keys.length] as string;
  return [key, record[key] as T];
}

function setOrDrop(target: Record<string, unknown>, field: string, value: unknown, drop: boolean): void {
  if (drop) delete target[field];
  else Object.defineProperty(target, field, { value: structuredClone(value), enumerable: true, writable: true, configurable: true });
}

/** Applies a mutation to a parsed snapshot in place. */
export function mutate(snapshot: unknown, mutation: Mutation): void {
  const s = snapshot as { variables: Record<string, Record<string, unknown>>; variableIndex: Record<string, unknown> };
  switch (mutation.kind) {
    case 'none':
      return;
    case 'envelope':
      setOrDrop(s as unknown as Record<string, unknown>, mutation.field, mutation.value, mutation.drop);
      return;
    case 'variable': {
      const entry = pick(s.variables, mutation.variable);
      if (entry !== undefined) setOrDrop(entry[1], mutation.field, mutation.value, mutation.drop);
      return;
    }
    case 'index': {
      const entry = pick(s.variableIndex, mutation.variable);
      if (entry !== undefined) setOrDrop(s.variableIndex, entry[0], mutation.value, mutation.drop);
      return;
    }
  }
}

/** Runs one sequence on fresh stores; throws on the first divergence. */
export async function runSequence(ops: readonly Op[]): Promise<void> {
  totals.sequences++;
  const run = new Run();
  await run.start();
  for (const op of ops) {
    run.beginStep(op);
    totals.operations++;
    try {
      await run.apply(op);
      run.check();
    } catch (error) {
      if (error instanceof NotAStateError) {
        throw new Divergence(`step ${run.step} ${JSON.stringify(op.op)}: ${error.message}`);
      }
      throw error;
    }
  }
  run.current = undefined;
  run.finish();
}
