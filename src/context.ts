// Context: one handle that starts on the fastest backend and moves, live, to
// the one a program needs (distributed: RedisState; persistent: a durable
// store). Every provider method is here and returns a promise, whatever the
// backend; `backend` gives the current provider itself for code that wants the
// synchronous API while it is local.
//
// A move: writes made through the Context wait, reads keep answering from the
// old backend; in-flight writes finish; the state is exported, imported into
// the target in one atomic step and verified (count, ids, versions); watches
// are re-made on the target; then the Context switches and releases the
// waiting writes, in the order they were made. If anything fails, nothing of
// the move stays in the target and the Context stays where it was.

import { randomUUID } from 'node:crypto';
import { coarseNow } from './clock.js';
import { closedError, invalidArgument, StateError } from './errors.js';
import { LocalState } from './local-state.js';
import type { Metadata } from './metadata.js';
import type { BatchOptions, WriteOptions } from './options.js';
import type { Capabilities, RegisterOptions, StateProvider, StateStats, Updates, VariableInfo } from './provider.js';
import type { StateSnapshot } from './snapshot.js';
import type { VariableType, VariableValue } from './types/index.js';
import type { Watch, WatchEvent, WatcherInfo, WatchOptions } from './watch.js';

/** Any backend: the synchronous ones and the asynchronous ones alike. */
export type AnyProvider = StateProvider & {
  ref?(identifier: string): unknown;
  cleanup(): unknown;
};

/** Makes the provider a Context moves to, for its session id. */
export type ProviderFactory = (sessionId: string) => AnyProvider | Promise<AnyProvider>;

/** A capability `require` can ask for. */
export type NeededCapability = 'distributed' | 'persistent';

export interface ContextOptions {
  /** Default: a generated `session_<uuid>`. */
  readonly sessionId?: string;
  /** Where the Context starts. Default: a new LocalState with the Context's sessionId. */
  readonly backend?: AnyProvider;
  /** How to get a backend that has a capability the current one lacks. */
  readonly upgrades?: Partial<Record<NeededCapability, ProviderFactory>>;
  /** Called after every move (the same as the 'migrated' event). */
  readonly onMigrated?: (result: MigrationResult) => void;
}

export interface MigrationResult {
  readonly from: AnyProvider;
  readonly to: AnyProvider;
  /** Variables moved. */
  readonly variables: number;
  /** Wall time of the move, ms. */
  readonly ms: number;
}

/** Dispatched on the Context after a move. */
export class MigratedEvent extends Event {
  constructor(readonly result: MigrationResult) {
    super('migrated');
  }
}

/** A watch made through the Context: re-made on every backend the Context moves to. */
interface ContextWatch extends Watch {
  readonly createdAt: number;
  readonly callback: (event: WatchEvent) => void;
  readonly options: WatchOptions;
  inner: Watch | undefined;
  active: boolean;
}

/** Runs a clean-up step whose failure must not mask the error being reported (sync throws included). */
async function quietly(step: () => unknown): Promise<void> {
  try {
    await step();
  } catch {
    // the step's own failure is not the caller's error
  }
}

const isPromise = (value: unknown): value is Promise<unknown> =>
  typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';

export class Context extends EventTarget {
  readonly sessionId: string;
  private current: AnyProvider;
  private closed = false;
  /** Resolves when the move under way (if any) has ended; writes wait for it. */
  private moving: Promise<void> | undefined;
  /** The last move asked for: a second move waits for the first, then decides again. */
  private moves: Promise<unknown> = Promise.resolve();
  /** Writes sent to the current backend and not yet answered: a move waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly watches = new Map<string, ContextWatch>();
  private nextWatchId = 1;
  /** Refs made through this Context, held weakly: a move tells each to rebind. */
  private readonly refs = new Set<WeakRef<ContextRef>>();
  private readonly forgetRef = new FinalizationRegistry<WeakRef<ContextRef>>((held) => this.refs.delete(held));

  private constructor(
    sessionId: string,
    backend: AnyProvider,
    private readonly options: ContextOptions,
  ) {
    super();
    this.sessionId = sessionId;
    this.current = backend;
  }

  static async create(options: ContextOptions = {}): Promise<Context> {
    const sessionId = options.sessionId ?? options.backend?.sessionId ?? `session_${randomUUID()}`;
    if (typeof sessionId !== 'string' || sessionId.length === 0)
      throw invalidArgument('Context.create: sessionId must be a non-empty string');
    const backend = options.backend ?? (await LocalState.init({ sessionId }));
    return new Context(sessionId, backend, options);
  }

  /** The current provider. */
  get backend(): AnyProvider {
    return this.current;
  }

  /** @internal */
  get isMoving(): boolean {
    return this.moving !== undefined;
  }

  capabilities(): Capabilities {
    this.assertOpen();
    return this.current.capabilities();
  }

  requiresBridge(): boolean {
    this.assertOpen();
    return this.current.requiresBridge();
  }

  // ─── reads: never wait for a move ──────────────────────────────────────

  async getVariable(identifier: string): Promise<VariableValue> {
    this.assertOpen();
    return this.current.getVariable(identifier);
  }

  async getVariables(identifiers: readonly string[]): Promise<Record<string, VariableValue>> {
    this.assertOpen();
    return this.current.getVariables(identifiers);
  }

  async listVariables(): Promise<VariableInfo[]> {
    this.assertOpen();
    return this.current.listVariables();
  }

  async exportState(): Promise<StateSnapshot> {
    this.assertOpen();
    return this.current.exportState();
  }

  async stats(): Promise<StateStats> {
    this.assertOpen();
    return this.current.stats();
  }

  async listWatchers(): Promise<WatcherInfo[]> {
    this.assertOpen();
    const alive = await this.liveIdentifiers(this.current);
    return [...this.watches.values()]
      .filter((w) => alive.has(w.id))
      .map((w) => ({ id: w.id, identifiers: alive.get(w.id) as string[], createdAt: w.createdAt }));
  }

  // ─── writes: wait for a move, then go to the backend it left ───────────

  registerVariable(name: string, type: VariableType, initialValue: unknown, options?: RegisterOptions): Promise<string> {
    return this.write((b) => b.registerVariable(name, type, initialValue, options));
  }

  setVariable(identifier: string, value: unknown, metadata?: Readonly<Record<string, unknown>>, options?: WriteOptions): Promise<void> {
    return this.write((b) => b.setVariable(identifier, value, metadata, options));
  }

  updateVariables(updates: Updates, metadata?: Readonly<Record<string, unknown>>, options?: BatchOptions): Promise<void> {
    return this.write((b) => b.updateVariables(updates, metadata, options));
  }

  deleteVariable(identifier: string): Promise<void> {
    return this.write((b) => b.deleteVariable(identifier));
  }

  importState(snapshot: unknown): Promise<void> {
    return this.write((b) => b.importState(snapshot));
  }

  // ─── watching and refs: follow the Context across moves ────────────────

  async watchVariables(identifiers: readonly string[], callback: (event: WatchEvent) => void, options: WatchOptions = {}): Promise<Watch> {
    this.assertOpen();
    while (this.moving !== undefined) await this.moving;
    const watch: ContextWatch = {
      id: `ctx_watch_${this.nextWatchId++}`,
      createdAt: coarseNow(),
      callback,
      options,
      inner: undefined,
      active: true,
      unwatch: () => {
        if (!watch.active) return;
        watch.active = false;
        this.watches.delete(watch.id);
        const inner = watch.inner;
        watch.inner = undefined;
        if (inner !== undefined) void quietly(() => inner.unwatch());
      },
    };
    const backend = this.current;
    if (backend.watchVariables === undefined) throw invalidArgument('watchVariables: the current backend does not stream changes');
    watch.inner = await backend.watchVariables(identifiers, callback, options);
    this.watches.set(watch.id, watch);
    return watch;
  }

  async unwatchVariables(watch: Watch | string): Promise<void> {
    const id = typeof watch === 'string' ? watch : watch?.id;
    const found = typeof id === 'string' ? this.watches.get(id) : undefined;
    if (found !== undefined && (typeof watch === 'string' || found === watch)) found.unwatch();
  }

  /**
   * A ref that follows its variable across moves. On a synchronous backend, `get()` and `set()` return
   * values (and this returns the ref); on an asynchronous one they return promises (and so does this).
   */
  ref(identifier: string): ContextRef | Promise<ContextRef> {
    this.assertOpen();
    const inner = refOf(this.current, identifier);
    // On an asynchronous backend during a move, bind on the backend the move leaves the Context on.
    if (isPromise(inner) && this.moving !== undefined) return this.moving.then(() => this.ref(identifier));
    // An asynchronous backend's ref is never used directly: its writes must go the Context's way, so a move waits for them.
    if (isPromise(inner)) return inner.then((bound) => this.track(new ContextRef(this, bound as BoundRef, false)));
    return this.track(new ContextRef(this, inner as BoundRef, true));
  }

  private track(ref: ContextRef): ContextRef {
    const weak = new WeakRef(ref);
    this.refs.add(weak);
    this.forgetRef.register(ref, weak);
    return ref;
  }

  // ─── moves ─────────────────────────────────────────────────────────────

  /** Moves to the backend made by `upgrades[capability]`, unless the current one has it already. */
  async require(capability: NeededCapability): Promise<void> {
    this.assertOpen();
    if (capability !== 'distributed' && capability !== 'persistent') {
      throw invalidArgument(`Context.require: capability must be 'distributed' or 'persistent', got ${String(capability)}`);
    }
    const turn = this.moves.then(async () => {
      if (this.current.capabilities()[capability]) return;
      const factory = this.options.upgrades?.[capability];
      if (factory === undefined) {
        throw invalidArgument(
          `Context.require('${capability}'): the backend lacks it and no upgrades.${capability} was given to Context.create`,
          {
            rule: `upgrades.${capability}`,
          },
        );
      }
      await this.move(factory);
    });
    this.moves = turn.catch(() => {});
    await turn;
  }

  /** Moves the whole state to `target` (a provider, or a factory given the session id). */
  async migrate(target: AnyProvider | ProviderFactory): Promise<MigrationResult> {
    this.assertOpen();
    const turn = this.moves.then(() => this.move(target));
    this.moves = turn.catch(() => {});
    return turn;
  }

  /** Cleans up the current backend; the Context is closed afterwards. */
  async cleanup(): Promise<void> {
    if (this.closed) return;
    await this.moves;
    this.closed = true;
    for (const watch of [...this.watches.values()]) watch.unwatch();
    await this.current.cleanup();
  }

  // ─── internals ─────────────────────────────────────────────────────────

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  /** Runs a write on the current backend once no move is under way, tracking it until it is answered. */
  private async write<T>(call: (backend: AnyProvider) => T | Promise<T>): Promise<T> {
    this.assertOpen();
    while (this.moving !== undefined) await this.moving;
    this.assertOpen();
    const result = call(this.current);
    if (!isPromise(result)) return result;
    this.inFlight.add(result);
    try {
      return await result;
    } finally {
      this.inFlight.delete(result);
    }
  }

  private async move(target: AnyProvider | ProviderFactory): Promise<MigrationResult> {
    this.assertOpen();
    const started = performance.now();
    let release!: () => void;
    this.moving = new Promise<void>((resolve) => {
      release = resolve;
    });
    const from = this.current;
    const made = typeof target === 'function';
    let to: AnyProvider | undefined;
    let imported: string[] = [];
    try {
      // Writes already sent finish on the old backend first.
      while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
      to = made ? await (target as ProviderFactory)(this.sessionId) : (target as AnyProvider);
      if (to === from) throw invalidArgument('Context.migrate: the target is the current backend');
      const snapshot = await from.exportState();
      const before = new Set((await to.listVariables()).map((v) => v.id));
      // Named before the import is sent: an import that times out may still have committed, and must go too.
      imported = Object.keys(snapshot.variables).filter((id) => !before.has(id));
      await to.importState(snapshot);
      await verify(from, to, before);
      await this.rewatch(from, to);
    } catch (error) {
      // Nothing of the move stays in the target; a target the caller passed in stays open.
      if (to !== undefined && to !== from) {
        const target = to;
        const ids = new Set(imported);
        const close = made ? () => quietly(() => target.cleanup()) : async () => {};
        if (await removeImported(target, ids)) await close();
        // A target that did not answer may still apply an import it had received: keep trying to take it out.
        else void retryRemoval(target, ids).then(close);
      }
      this.moving = undefined;
      release();
      throw error;
    }
    this.current = to;
    for (const weak of this.refs) weak.deref()?.unbind();
    this.moving = undefined;
    release();
    // The old backend goes only now that the new one is verified and serving.
    await quietly(() => from.cleanup());
    const result: MigrationResult = { from, to, variables: imported.length, ms: performance.now() - started };
    this.options.onMigrated?.(result);
    this.dispatchEvent(new MigratedEvent(result));
    return result;
  }

  /** Context watch id → the identifiers its backend watch still watches (absent: it has ended). */
  private async liveIdentifiers(backend: AnyProvider): Promise<Map<string, string[]>> {
    const infos = backend.listWatchers === undefined ? [] : await backend.listWatchers();
    const byInner = new Map(infos.map((info) => [info.id, [...info.identifiers]]));
    const alive = new Map<string, string[]>();
    for (const watch of this.watches.values()) {
      const identifiers = watch.inner === undefined ? undefined : byInner.get(watch.inner.id);
      if (identifiers !== undefined) alive.set(watch.id, identifiers);
    }
    return alive;
  }

  /** Re-makes every watch on the target, after the old backend has delivered what it committed. */
  private async rewatch(from: AnyProvider, to: AnyProvider): Promise<void> {
    if (this.watches.size === 0) return;
    if (to.watchVariables === undefined)
      throw invalidArgument('Context.migrate: the target does not stream changes, and watches are active');
    // An asynchronous backend delivers after its calls resolve: wait until it has delivered everything.
    const sync = (from as { sync?: () => Promise<void> }).sync;
    if (typeof sync === 'function') await sync.call(from);
    // What each watch still watches: a delete ends that variable's part of a watch, and a watch with nothing left ends.
    const alive = await this.liveIdentifiers(from);
    const made: Array<[ContextWatch, Watch]> = [];
    try {
      for (const watch of [...this.watches.values()]) {
        const live = alive.get(watch.id);
        if (live === undefined || live.length === 0) {
          watch.unwatch();
          continue;
        }
        const { includeInitial: _initial, ...rest } = watch.options;
        made.push([watch, await to.watchVariables(live, watch.callback, rest)]);
      }
    } catch (error) {
      for (const [, inner] of made) await quietly(() => inner.unwatch());
      throw error;
    }
    for (const [watch, inner] of made) {
      const old = watch.inner;
      watch.inner = inner;
      if (old !== undefined) await quietly(() => old.unwatch());
    }
  }
}

/** A backend's own ref (sync or async members). */
interface BoundRef {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  readonly version: number | Promise<number>;
  get(): VariableValue | Promise<VariableValue>;
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void | Promise<void>;
}

function refOf(backend: AnyProvider, identifier: string): BoundRef | Promise<BoundRef> {
  if (typeof backend.ref !== 'function') throw invalidArgument('ref: the current backend has no refs');
  return backend.ref(identifier) as BoundRef | Promise<BoundRef>;
}

/** A ref through a Context: it follows its variable (by id) across moves. */
export class ContextRef {
  /** The backend's own ref while it is synchronous and current; undefined after a move, until rebound. */
  private local: BoundRef | undefined;
  /** The backend's ref (or a promise of it, on an asynchronous backend); undefined until bound again. */
  private bound: BoundRef | Promise<BoundRef> | undefined;
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;

  constructor(
    private readonly context: Context,
    bound: BoundRef,
    synchronous: boolean,
  ) {
    this.bound = bound;
    this.local = synchronous ? bound : undefined;
    this.id = bound.id;
    this.name = bound.name;
    this.type = bound.type;
  }

  get version(): number | Promise<number> {
    const bound = this.current();
    return isPromise(bound) ? bound.then((b) => b.version) : bound.version;
  }

  get(): VariableValue | Promise<VariableValue> {
    // The hot path: the backend's own ref, cleared by the Context when it moves (no check per call).
    const local = this.local;
    if (local !== undefined) return local.get();
    const bound = this.current();
    return isPromise(bound) ? bound.then((b) => b.get()) : bound.get();
  }

  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void | Promise<void> {
    const local = this.local;
    if (local !== undefined && !this.context.isMoving) return local.set(value, metadata);
    // On an asynchronous backend, or during a move, a write goes the Context's way: a move waits for it, or it for the move.
    return this.context.setVariable(this.id, value, metadata);
  }

  /** @internal The Context moved: bind to the new backend now, so a synchronous one answers synchronously at once. */
  unbind(): void {
    this.local = undefined;
    this.bound = undefined;
    try {
      this.current();
    } catch {
      // Not there (deleted meanwhile): the next call reports it.
    }
  }

  /** The backend's ref for this variable, re-made by id after a move (or after a failed attempt). */
  private current(): BoundRef | Promise<BoundRef> {
    if (this.bound === undefined) {
      const bound = refOf(this.context.backend, this.id);
      if (isPromise(bound)) {
        this.bound = bound;
        // A failed binding (say, the server away for a moment) is tried again on the next call.
        bound.catch(() => {
          if (this.bound === bound) this.bound = undefined;
        });
      } else {
        this.bound = bound;
        this.local = bound;
      }
    }
    return this.bound;
  }
}

/**
 * Takes out of `target` the variables a failed move put there: those it now holds under an id the move
 * sent. Only ids present are deleted (an absent id would resolve as another variable's name).
 */
async function removeImported(target: AnyProvider, ids: ReadonlySet<string>): Promise<boolean> {
  if (ids.size === 0) return true;
  let present: VariableInfo[];
  try {
    present = await target.listVariables();
  } catch {
    return false; // unreachable now
  }
  for (const { id } of present) if (ids.has(id)) await quietly(() => target.deleteVariable(id));
  return true;
}

/** How long, after a failed move, the Context keeps trying to take its import out of a target that does not answer. */
const REMOVAL_RETRY_MS = 30_000;

/** removeImported, again and again (backing off to a second) until the target answers or REMOVAL_RETRY_MS pass. */
async function retryRemoval(target: AnyProvider, ids: ReadonlySet<string>): Promise<void> {
  const deadline = Date.now() + REMOVAL_RETRY_MS;
  for (let wait = 50; Date.now() < deadline; wait = Math.min(wait * 2, 1000)) {
    await new Promise((resolve) => setTimeout(resolve, wait).unref());
    if (await removeImported(target, ids)) return;
  }
}

/** After an import: the target holds every variable of the source, same ids and versions, and what it held before. */
async function verify(from: AnyProvider, to: AnyProvider, before: ReadonlySet<string>): Promise<void> {
  const source = await from.listVariables();
  const target = await to.listVariables();
  const versions = new Map(target.map((v) => [v.id, v.version]));
  const wrong = source.filter((v) => versions.get(v.id) !== v.version);
  if (target.length !== before.size + source.length || wrong.length > 0) {
    throw new StateError(
      'invalid_export',
      `Context.migrate: the target does not hold what was moved (${source.length} sent, ${target.length - before.size} arrived, ${wrong.length} with another id or version)`,
      { rule: 'verify' },
    );
  }
}

export type { Metadata };
