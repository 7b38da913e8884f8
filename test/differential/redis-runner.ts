// Applies a sequence of operations (ops.ts) to a LocalState and a RedisState
// (a fresh session on a real redis-server) side by side, and compares them
// after every step the way runner.ts compares LocalState with JsLocalState:
// the outcome of each call (the normalized result, or the StateError's code,
// rule, path and message), listVariables() (timestamps aside), the counters,
// listWatchers() (createdAt aside) and the events each side's watches logged.
// Any exception that is not a StateError is a failure.
//
// Where RedisState differs by design, the comparison is normalized here, and
// nowhere else:
// - Timestamps come from the Redis server's clock: createdAt and lastUpdatedAt
//   are left out of lists and snapshots (as runner.ts does), and so is the
//   snapshot's backend name.
// - Watch events arrive asynchronously, from the change feed: before the logs
//   are compared, the runner awaits RedisState.sync(), after which every change
//   committed so far has been delivered. For the same reason every callback only
//   logs (and filters are pure): a callback that writes, unwatches or throws
//   acts within the call on LocalState (which rethrows callback errors to it)
//   and some time after it on RedisState (which has no call to rethrow to).
// - Error messages that word a shared session differently (WORDING below).
// - totalOperations counts this client's reads plus the session's writes; one
//   client per session here, so it must agree exactly, and does not need it.
//
// Left out: the bulk operations (they exist to grow the wasm table; thousands
// of registrations would spend the time budget on round trips).

import { LocalState, StateError } from '../../dist/index.js';
import { RedisState } from '../../dist/redis/index.js';
import type { Ident, Op, WatchFilter, WatchRef } from './ops.js';
import { isFit, NAMES, oddWatchOptions, type TypeName } from './ops.js';
import {
  around,
  canonOutcome,
  Divergence,
  describeError,
  eventRecord,
  FILTERS,
  mutate,
  normalizeSnapshot,
  type Outcome,
  POPULATION,
  sameLists,
  sameOutcome,
  storeCall,
  withoutCreatedAt,
  withoutTimes,
} from './runner.js';

type Side = 'local' | 'redis';
const SIDES: readonly Side[] = ['local', 'redis'];
type Pair<T> = Record<Side, T>;

/** Either store, typed loosely so operations can pass arguments the API refuses; every result is awaited. */
interface AnyStore {
  readonly sessionId: string;
  registerVariable(name: unknown, type: unknown, value: unknown, options?: unknown): unknown;
  getVariable(identifier: unknown): unknown;
  setVariable(identifier: unknown, value: unknown, metadata?: unknown, options?: unknown): unknown;
  getVariables(identifiers: unknown): unknown;
  updateVariables(updates: unknown, metadata?: unknown, options?: unknown): unknown;
  listVariables(): unknown;
  deleteVariable(identifier: unknown): unknown;
  ref(identifier: unknown): unknown;
  exportState(): unknown;
  importState(snapshot: unknown): unknown;
  stats(): unknown;
  cleanup(): unknown;
  watchVariables(identifiers: unknown, callback: unknown, options?: unknown): unknown;
  unwatchVariables(watch: unknown): unknown;
  listWatchers(): unknown;
}

/** A LocalState ref (version a number) or a RedisState ref (version a promise). */
interface AnyRef {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly version: unknown;
  get(): unknown;
  set(value: unknown, metadata?: unknown): unknown;
}

interface AnyWatch {
  readonly id: string;
  unwatch(): void;
}

type Info = Record<string, unknown>;

/** Counters across every sequence run in this process (shrinking included). */
export const redisTotals = { sequences: 0, operations: 0, exports: 0, watchEvents: 0, sessions: 0 };

/** Per check, how often both sides succeeded and how often both failed with each error code. */
export const redisOutcomeCounts: Record<string, Record<string, number>> = {};

function count(what: string, outcome: Outcome): void {
  const key = 'ok' in outcome ? 'ok' : outcome.error.split(' | ', 2).join(':');
  const counts = (redisOutcomeCounts[what] ??= {});
  counts[key] = (counts[key] ?? 0) + 1;
}

const SESSION = 'differential';

/** Where the Redis sessions live; each store gets a key prefix of its own. */
export interface RedisTarget {
  readonly url: string;
}

class NotAStateError extends Error {}

function describeThrown(side: Side, error: unknown): string {
  if (error instanceof StateError) return describeError(error);
  if (error instanceof NotAStateError) throw error;
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  throw new NotAStateError(`${side} threw something other than a StateError: ${text}`);
}

/**
 * RedisState's wording where it differs on purpose, as LocalState words it: a Redis store is one
 * client's view of a session that other clients share.
 */
const WORDING: ReadonlyArray<readonly [RegExp, string]> = [[/ already exists in this session$/, ' already exists in this store']];

async function attempt(side: Side, fn: () => unknown): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (error) {
    const text = describeThrown(side, error);
    return { error: side === 'redis' ? WORDING.reduce((out, [from, to]) => out.replace(from, to), text) : text };
  }
}

/** One side's view of a watch made by a watch op. */
interface WatchHandle {
  readonly label: string;
  readonly controller: AbortController | undefined;
  /** What watchVariables returned; absent when it threw after registering. */
  watch: AnyWatch | undefined;
  id: string | undefined;
}

/**
 * The watch ops this runner can compare: every callback only logs, and a filter that throws becomes no
 * filter (see the header). Other operations pass unchanged; bulk ones are not generated (weight 0).
 */
export function comparable(op: Op): Op {
  if (op.op !== 'watch') return op;
  const filter: WatchFilter = op.filter === 'throws' ? 'none' : op.filter;
  return { ...op, action: { do: 'log' }, filter };
}

class RedisRun {
  stores!: Pair<AnyStore>;
  readonly ids: string[] = [];
  readonly refs: Array<Pair<AnyRef | undefined> & { readonly type: TypeName }> = [];
  readonly snapshots: Array<Pair<string>> = [];
  step = 0;
  current: Op | undefined;
  private seenIds = new Set<string>();
  private live: Info[] = [];
  private watched: Info[] = [];
  private watchedIdentifiers: string[] = [];
  readonly watches: Pair<WatchHandle[]> = { local: [], redis: [] };
  readonly logs: Pair<string[]> = { local: [], redis: [] };
  private compared = 0;
  private nextLabel = 1;
  /** Every RedisState this run opened: each is closed at the end, whatever happened. */
  private readonly opened: RedisState[] = [];

  constructor(private readonly target: RedisTarget) {}

  async fresh(side: Side, existingState?: unknown): Promise<AnyStore> {
    if (side === 'local') {
      const options = existingState === undefined ? { sessionId: SESSION } : { sessionId: SESSION, existingState };
      return (await LocalState.init(options)) as unknown as AnyStore;
    }
    redisTotals.sessions++;
    const store = await RedisState.init({
      url: this.target.url,
      keyPrefix: `diff${redisTotals.sessions}`,
      sessionId: SESSION,
      ...(existingState === undefined ? {} : { existingState }),
    });
    this.opened.push(store);
    return store as unknown as AnyStore;
  }

  async start(): Promise<void> {
    this.stores = { local: await this.fresh('local'), redis: await this.fresh('redis') };
  }

  /** Closes every RedisState this run opened. */
  async close(): Promise<void> {
    await Promise.all(this.opened.splice(0).map((store) => store.cleanup()));
  }

  fail(what: string, local: string, redis: string, labels: readonly [string, string] = ['local', 'redis']): never {
    const [a, b] = around(local, redis);
    const width = Math.max(labels[0].length, labels[1].length) + 1;
    throw new Divergence(
      `step ${this.step} ${JSON.stringify(this.current?.op)}: ${what} differ\n  ${`${labels[0]}:`.padEnd(width)} ${a}\n  ${`${labels[1]}:`.padEnd(width)} ${b}`,
    );
  }

  sameOutcomes(what: string, local: Outcome, redis: Outcome): void {
    if (!sameOutcome(local, redis)) this.fail(what, canonOutcome(local), canonOutcome(redis));
  }

  /** Runs `fn` on each side (LocalState first) and checks the outcomes agree. */
  async both(what: string, fn: (store: AnyStore, side: Side) => unknown): Promise<Pair<Outcome>> {
    const local = await attempt('local', () => fn(this.stores.local, 'local'));
    const redis = await attempt('redis', () => fn(this.stores.redis, 'redis'));
    this.sameOutcomes(what, local, redis);
    count(what, local);
    return { local, redis };
  }

  resolve(ident: Ident): unknown {
    switch (ident.by) {
      case 'name':
        return ident.name;
      case 'id':
        return this.ids.length === 0 ? 'var_a_1' : this.ids[ident.index % this.ids.length];
      case 'bulk':
        return `bulk${ident.batch}_${ident.index}`;
      case 'live': {
        const variable = this.live[ident.index % Math.max(1, this.live.length)];
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

  valueFor(target: unknown, value: unknown): unknown {
    if (!isFit(value)) return value;
    const holder = this.live.find((v) => v.id === target) ?? this.live.find((v) => v.name === target);
    return value.$fit[(holder?.type as TypeName | undefined) ?? 'float'];
  }

  /** The version a guard names now, read from the LocalState side (the two agree on versions after every step). */
  expected(target: unknown, guard: { readonly kind: string; readonly by?: number; readonly value?: unknown }): unknown {
    if (guard.kind === 'raw') return guard.value;
    let version = 0;
    try {
      version = (this.stores.local.ref(target) as AnyRef).version as number;
    } catch {
      // a missing variable: any version will do, the write must be not_found
    }
    return guard.kind === 'current' ? version : Math.max(0, version + (guard.by ?? 0));
  }

  private generated(id: string): void {
    if (this.seenIds.has(id)) {
      throw new Divergence(
        `step ${this.step} ${JSON.stringify(this.current?.op)}: registration generated the id ${JSON.stringify(id)} again`,
      );
    }
    this.seenIds.add(id);
  }

  async apply(op: Op): Promise<void> {
    const plain = storeCall(op, this);
    if (plain !== undefined) {
      await this.both(plain.what, plain.call);
      return;
    }
    switch (op.op) {
      case 'register': {
        const outcome = await this.both('register outcomes', (s) =>
          op.options === undefined
            ? s.registerVariable(op.name, op.type, op.value)
            : s.registerVariable(op.name, op.type, op.value, op.options),
        );
        if ('ok' in outcome.local) {
          this.generated(outcome.local.ok as string);
          this.ids.push(outcome.local.ok as string);
        }
        return;
      }
      case 'populate': {
        const outcome = await this.both('populate outcomes', async (s, side) => {
          const results: string[] = [];
          for (const [i, [type, value, options]] of POPULATION.entries()) {
            const name = NAMES[(op.offset + i) % NAMES.length] as string;
            results.push(canonOutcome(await attempt(side, () => s.registerVariable(name, type, value(), options()))));
          }
          return results;
        });
        if ('ok' in outcome.local) {
          for (const result of outcome.local.ok as string[]) {
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
        const created: Pair<AnyRef | undefined> = { local: undefined, redis: undefined };
        await this.both('ref outcomes', async (s, side) => {
          const ref = (await s.ref(target)) as AnyRef;
          created[side] = ref;
          return { id: ref.id, name: ref.name, type: ref.type };
        });
        if (created.local !== undefined) this.refs.push({ ...created, type: created.local.type as TypeName });
        return;
      }
      case 'refGet': {
        const pair = this.refs[op.ref % Math.max(1, this.refs.length)];
        if (pair === undefined) return;
        await this.both('ref.get outcomes', (_, side) => (pair[side] as AnyRef).get());
        await this.both('ref.version outcomes', (_, side) => (pair[side] as AnyRef).version);
        return;
      }
      case 'refSet': {
        const watchedIds = new Set(this.watched.map((v) => v.id));
        const toWatched = op.watched === true ? this.refs.filter((r) => watchedIds.has(r.local?.id)) : [];
        const refs = toWatched.length > 0 ? toWatched : this.refs;
        const pair = refs[op.ref % Math.max(1, refs.length)];
        if (pair === undefined) return;
        const value = isFit(op.value) ? op.value.$fit[pair.type] : op.value;
        await this.both('ref.set outcomes', (_, side) => {
          const ref = pair[side] as AnyRef;
          return op.metadata === undefined ? ref.set(value) : ref.set(value, op.metadata);
        });
        await this.both('ref.version outcomes', (_, side) => (pair[side] as AnyRef).version);
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
        await this.both('importState (merge) outcomes', (s, side) => s.importState(JSON.parse(snapshot[side])));
        return;
      }
      case 'bulkRegister':
      case 'bulkDelete':
      case 'bulkUpdate':
        throw new Error(`redis-runner: ${op.op} is not generated here (bulk weight 0)`);
      case 'cleanup':
        await this.both('cleanup outcomes', (s) => s.cleanup());
        return;
      case 'watch':
        await this.watchOp(op);
        return;
      case 'unwatch':
        await this.unwatchOp(op.target);
        return;
      case 'listWatchers':
        await this.both('listWatchers outcomes', async (s) => ((await s.listWatchers()) as Info[]).map(withoutCreatedAt));
        return;
    }
  }

  // ─── watching ────────────────────────────────────────────────────────────

  private async watchOp(op: Extract<Op, { op: 'watch' }>): Promise<void> {
    const targets = op.targets === 'not-an-array' ? 'a' : op.targets === 'empty' ? [] : op.targets.map((ident) => this.resolve(ident));
    const label = `w${this.nextLabel++}`;
    await this.both('watchVariables outcomes', (s, side) => this.watchOn(side, s, targets, op, label));
  }

  /** watchVariables with a logging callback; a watch registered although the call threw is captured through listWatchers. */
  private async watchOn(side: Side, store: AnyStore, targets: unknown, op: Extract<Op, { op: 'watch' }>, label: string): Promise<unknown> {
    const controller = op.signal === 'none' ? undefined : new AbortController();
    if (op.signal === 'aborted') controller?.abort();
    const handle: WatchHandle = { label, controller, watch: undefined, id: undefined };
    const options: Record<string, unknown> = {};
    if (op.includeInitial) options.includeInitial = true;
    if (op.filter !== 'none' && op.filter !== 'throws') options.filter = FILTERS[op.filter];
    if (controller !== undefined) options.signal = controller.signal;
    // onError is never called: callbacks only log and filters do not throw. It is passed, to check it is accepted.
    if (op.onError !== 'none') options.onError = () => this.logs[side].push(`${label} onError`);
    const passed = oddWatchOptions(op.odd, options);
    const callback =
      op.odd === 'callback-not-function'
        ? 'log'
        : (event: Parameters<typeof eventRecord>[1]) => {
            if (side === 'redis') redisTotals.watchEvents++;
            this.logs[side].push(eventRecord(label, event));
          };
    const before = new Set(await this.watcherIds(store));
    try {
      const watch = (await store.watchVariables(targets, callback, passed)) as AnyWatch;
      handle.watch = watch;
      handle.id = watch.id;
      this.watches[side].push(handle);
      return { id: watch.id };
    } catch (error) {
      const added = (await this.watcherIds(store)).filter((id) => !before.has(id));
      added.sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
      if (added[0] !== undefined) {
        handle.id = added[0];
        this.watches[side].push(handle);
      }
      throw error;
    }
  }

  private async watcherIds(store: AnyStore): Promise<string[]> {
    try {
      return ((await store.listWatchers()) as Info[]).map((info) => info.id as string);
    } catch {
      return []; // closed
    }
  }

  private async unwatchOp(ref: WatchRef): Promise<void> {
    if (ref.by === 'raw') {
      await this.both('unwatchVariables(raw) outcomes', (s) => s.unwatchVariables(ref.value));
      return;
    }
    if (this.watches.local.length !== this.watches.redis.length) {
      this.fail('captured watches', `${this.watches.local.length} watches`, `${this.watches.redis.length} watches`);
    }
    await this.both(`unwatch (${ref.via}) outcomes`, async (s, side) => {
      const handles = this.watches[side];
      const handle = handles[handles.length - 1 - (ref.index % Math.max(1, handles.length))];
      if (handle === undefined) return;
      switch (ref.via) {
        case 'method':
          if (handle.watch !== undefined) handle.watch.unwatch();
          else await s.unwatchVariables(handle.id);
          return;
        case 'object':
          await s.unwatchVariables(handle.watch ?? { id: handle.id });
          return;
        case 'id':
          await s.unwatchVariables(handle.id);
          return;
        case 'abort':
          if (handle.controller !== undefined) handle.controller.abort();
          else handle.watch?.unwatch();
          return;
      }
    });
  }

  // ─── export and import ───────────────────────────────────────────────────

  private async exportBoth(what: string): Promise<Pair<string> | undefined> {
    const texts: Pair<Outcome> = {
      local: await attempt('local', async () => JSON.stringify(await this.stores.local.exportState())),
      redis: await attempt('redis', async () => JSON.stringify(await this.stores.redis.exportState())),
    };
    count(what, texts.local);
    if (!('ok' in texts.local && 'ok' in texts.redis)) {
      this.sameOutcomes(`${what} outcomes`, texts.local, texts.redis);
      return undefined;
    }
    const local = texts.local.ok as string;
    const redis = texts.redis.ok as string;
    this.sameOutcomes(
      `${what} (timestamps aside)`,
      { ok: normalizeSnapshot(JSON.parse(local)) },
      { ok: normalizeSnapshot(JSON.parse(redis)) },
    );
    return { local, redis };
  }

  /** Export → JSON on both sides (compared), then each export into a fresh store of each backend. */
  private async exportAndImport(): Promise<void> {
    redisTotals.exports++;
    const texts = await this.exportBoth('exportState');
    if (texts === undefined) return;
    this.snapshots.push(texts);
    const originals: Pair<unknown> = { local: await this.stores.local.listVariables(), redis: await this.stores.redis.listVariables() };
    for (const from of SIDES) {
      const fresh: Pair<AnyStore> = { local: await this.fresh('local'), redis: await this.fresh('redis') };
      const outcomes: Pair<Outcome> = {
        local: await attempt('local', () => fresh.local.importState(JSON.parse(texts[from]))),
        redis: await attempt('redis', () => fresh.redis.importState(JSON.parse(texts[from]))),
      };
      this.sameOutcomes(`importState of the ${from} export into fresh stores`, outcomes.local, outcomes.redis);
      if (!('ok' in outcomes.local))
        this.fail(`re-import of a valid ${from} export`, canonOutcome(outcomes.local), 'ok', ['actual', 'expected']);
      for (const into of SIDES) {
        // An import moves every variable exactly: values, versions, metadata and timestamps.
        const imported = await attempt(into, () => fresh[into].listVariables());
        if (!sameOutcome(imported, { ok: originals[from] })) {
          this.fail(
            `listVariables after importing the ${from} export into a fresh ${into} store`,
            canonOutcome(imported),
            canonOutcome({ ok: originals[from] }),
            [`imported into ${into}`, `exported from ${from}`],
          );
        }
      }
      // Ids that arrived by import are never generated again.
      this.sameOutcomes(
        `register after importing the ${from} export`,
        await attempt('local', () => fresh.local.registerVariable('a', 'float', 1)),
        await attempt('redis', () => fresh.redis.registerVariable('a', 'float', 1)),
      );
      const after: Pair<Outcome> = {
        local: await attempt('local', () => fresh.local.listVariables()),
        redis: await attempt('redis', () => fresh.redis.listVariables()),
      };
      if (!sameLists(after.local, after.redis)) {
        this.fail(
          `listVariables after register following import of the ${from} export`,
          canonOutcome(withoutTimes(after.local)),
          canonOutcome(withoutTimes(after.redis)),
        );
      }
      await fresh.local.cleanup();
      await fresh.redis.cleanup();
    }
  }

  /** Export → JSON → mutate → a fresh store of the same backend imports it; adopted when the import succeeds. */
  private async reload(mutation: Extract<Op, { op: 'reload' }>['mutation'], viaInit: boolean): Promise<void> {
    const texts = await this.exportBoth('exportState before reload');
    if (texts === undefined) return;
    this.snapshots.push(texts);
    const snapshots: Pair<unknown> = { local: JSON.parse(texts.local), redis: JSON.parse(texts.redis) };
    for (const side of SIDES) mutate(snapshots[side], mutation);
    const next: Pair<AnyStore | undefined> = { local: undefined, redis: undefined };
    const outcomes: Pair<Outcome> = { local: { ok: undefined }, redis: { ok: undefined } };
    for (const side of SIDES) {
      outcomes[side] = await attempt(side, async () => {
        if (viaInit) {
          next[side] = await this.fresh(side, snapshots[side]);
        } else {
          const store = await this.fresh(side);
          try {
            await store.importState(snapshots[side]);
          } catch (error) {
            await store.cleanup();
            throw error;
          }
          next[side] = store;
        }
      });
    }
    this.sameOutcomes('reload (import of a mutated export) outcomes', outcomes.local, outcomes.redis);
    count('reload', outcomes.local);
    if (next.local !== undefined && next.redis !== undefined) {
      // The old stores end here (their watches with them), on both sides alike.
      await this.stores.local.cleanup();
      await this.stores.redis.cleanup();
      this.stores = { local: next.local, redis: next.redis };
      this.seenIds = new Set();
    }
  }

  // ─── checks ──────────────────────────────────────────────────────────────

  /** Waits until RedisState has delivered the events of every change committed so far (nothing to wait for once closed). */
  private async settle(): Promise<void> {
    try {
      await (this.stores.redis as unknown as RedisState).sync();
    } catch (error) {
      if (!(error instanceof StateError && error.code === 'closed')) throw error;
    }
  }

  private async checkWatches(): Promise<void> {
    await this.settle();
    const { local, redis } = this.logs;
    if (local.length !== redis.length || local.some((entry, i) => i >= this.compared && entry !== redis[i])) {
      this.fail(
        'watch events delivered in this step',
        local.slice(this.compared).join('\n    '),
        redis.slice(this.compared).join('\n    '),
      );
    }
    this.compared = local.length;
    const listed = await this.both('listWatchers (createdAt aside)', async (s) =>
      ((await s.listWatchers()) as Info[]).map(withoutCreatedAt),
    );
    this.watchedIdentifiers =
      'ok' in listed.local ? (listed.local.ok as Array<{ identifiers: string[] }>).flatMap((w) => w.identifiers) : [];
  }

  /** What must hold after every step. */
  async check(): Promise<void> {
    await this.checkWatches();
    const lists: Pair<Outcome> = {
      local: await attempt('local', () => this.stores.local.listVariables()),
      redis: await attempt('redis', () => this.stores.redis.listVariables()),
    };
    if (!sameLists(lists.local, lists.redis)) {
      this.fail('listVariables (timestamps aside)', canonOutcome(withoutTimes(lists.local)), canonOutcome(withoutTimes(lists.redis)));
    }
    count('listVariables', lists.local);
    await this.both('stats counters', async (s) => {
      const { variableCount, totalOperations, totalUpdates } = (await s.stats()) as Record<string, number>;
      return { variableCount, totalOperations, totalUpdates };
    });
    if (!('ok' in lists.local)) {
      this.live = [];
      this.watched = [];
      return;
    }
    const list = lists.local.ok as Info[];
    this.live = list;
    const watched = new Set<Info>();
    for (const identifier of this.watchedIdentifiers) {
      const variable = list.find((v) => v.id === identifier) ?? list.find((v) => v.name === identifier);
      if (variable !== undefined) watched.add(variable);
    }
    this.watched = [...watched];
    for (const info of list) this.seenIds.add(info.id as string);
  }

  /** Compares whole exports at the end, then closes both stores and compares what their watches got. */
  async finish(): Promise<void> {
    await this.exportBoth('exportState at the end');
    await this.both('final cleanup outcomes', (s) => s.cleanup());
    await this.checkWatches();
  }
}

/** Runs one sequence on a fresh LocalState and a fresh Redis session; throws on the first divergence. */
export async function runRedisSequence(target: RedisTarget, ops: readonly Op[]): Promise<void> {
  redisTotals.sequences++;
  const run = new RedisRun(target);
  try {
    await run.start();
    for (const raw of ops) {
      const op = comparable(raw);
      run.step++;
      run.current = op;
      redisTotals.operations++;
      try {
        await run.apply(op);
        await run.check();
      } catch (error) {
        if (error instanceof NotAStateError) throw new Divergence(`step ${run.step} ${JSON.stringify(op.op)}: ${error.message}`);
        throw error;
      }
    }
    run.current = undefined;
    await run.finish();
  } finally {
    await run.close();
  }
}
