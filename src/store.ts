// The store shared by both backends: resolution, registration, batches,
// export/import, refs, counters. Backends differ only in where float, integer
// and boolean variables live. JsLocalState keeps every variable as a record in
// a Map (ids and names as keys). LocalState gives the store a NumericTable:
// its numeric variables live in the wasm table, where every write is
// validated (type, min/max) and versioned, with no JavaScript object of their
// own; they are addressed by a small integer *code* (see numeric-table.ts).

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { coarseNow } from './clock.js';
import { type BatchItemError, describeValue, firstIssue, quote, StateError } from './errors.js';
import { idOf, MAX_SERIAL } from './ids.js';
import { copyMetadata, initialMetadata, type JsonValue, type Metadata, mergeMetadata, setOwn } from './metadata.js';
import type { NumericTable } from './numeric-table.js';
import type { Capabilities, RegisterOptions, StateProvider, StateStats, Updates, VariableInfo, VariableRef } from './provider.js';
import { buildSnapshot, type ExportItem, parseSnapshot, type StateSnapshot } from './snapshot.js';
import {
  coerce,
  constraintViolation,
  invalidValue,
  parseConstraints,
  specOf,
  type TypeSpec,
  type VariableType,
  type VariableValue,
} from './types/index.js';
import { type Bounds, toCell } from './types/numeric.js';
import { Variable } from './variable.js';
import {
  type Change,
  Dispatcher,
  type Subscription,
  type Watch,
  type WatchEvent,
  type WatchEventKind,
  Watcher,
  type WatcherInfo,
  type WatchOptions,
} from './watch.js';

export interface InitOptions {
  /** Defaults to a random `session_<uuid>`. */
  readonly sessionId?: string;
  /** A snapshot (from exportState, possibly through JSON) to import at init. */
  readonly existingState?: unknown;
  /** Cap on the wasm table's linear memory; at least one 64 KiB page. Default: 4 GiB (wasm32's limit). Ignored by JsLocalState. */
  readonly maxMemoryBytes?: number;
  /** Numeric variables to make room for up front (avoids rehashing while registering). Ignored by JsLocalState. */
  readonly initialCapacity?: number;
}

/** Which backend a store is, as its exports name it. */
export type BackendName = 'wasm' | 'js';

const initOptionsSchema = z.strictObject({
  sessionId: z.string().min(1).optional(),
  existingState: z.unknown().optional(),
  maxMemoryBytes: z
    .number()
    .int()
    .positive()
    .max(2 ** 32)
    .optional(),
  initialCapacity: z
    .number()
    .int()
    .min(0)
    .max(2 ** 25)
    .optional(),
});

/** Validates init options (zod, at the edge) or throws `invalid_argument`. */
export function parseInitOptions(options: InitOptions, who: string): InitOptions {
  const parsed = initOptionsSchema.safeParse(options);
  if (!parsed.success) throw invalidArgument(`${who}.init: ${zodMessage(parsed.error)}`, { rule: 'options' });
  return parsed.data as InitOptions;
}

const aFunction = z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'expected a function');
const watchOptionsSchema = z.strictObject({
  includeInitial: z.boolean().optional(),
  filter: aFunction.optional(),
  signal: z.instanceof(AbortSignal).optional(),
  onError: aFunction.optional(),
});

const registerOptionsSchema = z.strictObject({
  constraints: z.unknown().optional(),
  description: z.unknown().optional(),
  metadata: z.unknown().optional(),
});

const CAPABILITIES: Capabilities = Object.freeze({
  atomicUpdates: true,
  streaming: true,
  persistent: false,
  distributed: false,
});

export function invalidArgument(message: string, details: { variable?: string; rule?: string } = {}): StateError {
  return new StateError('invalid_argument', message, details);
}

function zodMessage(error: z.ZodError): string {
  const { path, message } = firstIssue(error);
  return path === '' ? message : `${path}: ${message}`;
}

/** A resolved variable: a JavaScript record, or the code of a numeric variable in the wasm table. */
type Target = Variable | number;

/** One validated write of a batch, waiting to be applied. */
interface Staged {
  readonly target: Target;
  /** What apply writes: the f64 cell for a numeric code, the stored value for a record. */
  readonly value: VariableValue;
}

/** Could this string be an id (`var_<name>_<n>`)? Names that could are resolved the slow, exact way. */
const mayBeId = (identifier: string): boolean => identifier.charCodeAt(0) === 118 && identifier.startsWith('var_');

export abstract class Store implements StateProvider<'sync'> {
  readonly sessionId: string;
  /** @internal The numeric variables in wasm (LocalState), or undefined (JsLocalState). */
  readonly table: NumericTable | undefined;
  /** @internal Records by id and by name; an id wins over an equal name. */
  readonly index = new Map<string, Variable>();
  /** Record names hidden because another record's id is the same string (rare). */
  private readonly shadowed = new Map<string, Variable>();
  /** @internal Counted here, not in wasm: a field increment costs less than a call. */
  totalOperations = 0;
  private totalUpdates = 0;
  private variableCount = 0;
  private nextSerial = 1;
  /** Registration order across records and numeric variables, for listVariables and exports. */
  private nextOrder = 1;
  /** @internal */
  closed = false;
  private readonly createdAt = coarseNow();
  private lastImport: Readonly<Record<string, JsonValue>> | undefined;
  private readonly backend: BackendName;
  private readonly watchers = new Map<string, Watcher>();
  private nextWatcherId = 1;
  private readonly dispatcher = new Dispatcher();

  /** @internal */
  protected constructor(sessionId: string | undefined, table: NumericTable | undefined) {
    this.table = table;
    this.backend = table === undefined ? 'js' : 'wasm';
    this.sessionId = sessionId ?? `session_${randomUUID()}`;
  }

  registerVariable(name: string, type: VariableType, initialValue: unknown, options?: RegisterOptions): string {
    this.assertOpen();
    if (typeof name !== 'string' || name.length === 0) {
      throw invalidArgument(`registerVariable: name must be a non-empty string, got ${describeValue(name)}`, { rule: 'name' });
    }
    const spec = specOf(type, name);
    const parsedOptions = registerOptionsSchema.safeParse(options ?? {});
    if (!parsedOptions.success) {
      throw invalidArgument(`Variable ${quote(name)}: invalid options: ${zodMessage(parsedOptions.error)}`, {
        variable: name,
        rule: 'options',
      });
    }
    if (this.nameTaken(name)) {
      throw new StateError('already_exists', `Variable ${quote(name)} already exists`, { variable: name, rule: 'name' });
    }
    const { constraints, rules } = parseConstraints(spec, parsedOptions.data.constraints, name);
    const metadata = initialMetadata(name, parsedOptions.data.description, parsedOptions.data.metadata);
    const value = coerce(spec, initialValue);
    if (value === undefined) throw invalidValue(name, spec, initialValue);
    const violation = spec.violation(value, rules);
    if (violation !== undefined) throw constraintViolation(name, violation, initialValue);
    const now = coarseNow();
    const [serialBefore, orderBefore] = [this.nextSerial, this.nextOrder];
    const serial = this.nextFreeSerial(name);
    try {
      this.add({ serial, name, spec, constraints, rules, metadata, value, version: 0, createdAt: now, lastUpdatedAt: now });
    } catch (error) {
      // out_of_memory: a failed registration must not use up an id or a place in the order either.
      this.nextSerial = serialBefore;
      this.nextOrder = orderBefore;
      throw error;
    }
    this.totalOperations++;
    return idOf(name, serial);
  }

  getVariable(identifier: string): VariableValue {
    const target = this.resolveFast(identifier);
    if (target === undefined) throw this.missing(identifier);
    this.totalOperations++;
    return this.valueOf(target);
  }

  setVariable(identifier: string, value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    const target = this.resolveFast(identifier);
    if (target === undefined) throw this.missing(identifier);
    this.write(target, value, metadata);
  }

  getVariables(identifiers: readonly string[]): Record<string, VariableValue> {
    this.assertOpen();
    if (!Array.isArray(identifiers)) throw invalidArgument('getVariables: identifiers must be an array of strings');
    const result: Record<string, VariableValue> = {};
    for (const identifier of identifiers) {
      const target = this.resolveFast(identifier);
      if (target !== undefined) setOwn(result, identifier, this.valueOf(target));
      else if (typeof identifier !== 'string')
        throw invalidArgument(`getVariables: identifier ${describeValue(identifier)} is not a string`);
    }
    this.totalOperations += identifiers.length;
    return result;
  }

  updateVariables(updates: Updates, metadata?: Readonly<Record<string, unknown>>): void {
    this.assertOpen();
    const pairs = toPairs(updates);
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, 'updateVariables');
    const staged: Staged[] = [];
    const errors: Record<string, BatchItemError> = Object.create(null);
    // A variable named twice (by name and by id) is written twice; that matters only within
    // pairs.length of the version limit, so writes are counted only there.
    const nearLimit = Number.MAX_SAFE_INTEGER - pairs.length;
    let writes: Map<Target, number> | undefined;
    let failures = 0;
    for (const [identifier, value] of pairs) {
      try {
        const target = this.resolveFast(identifier);
        if (target === undefined) throw this.missing(identifier);
        const version = this.versionOf(target);
        if (version >= nearLimit) {
          writes ??= new Map();
          const earlier = writes.get(target) ?? 0;
          if (version + earlier >= Number.MAX_SAFE_INTEGER) {
            throw versionLimit(typeof target === 'number' ? (this.table as NumericTable).name(target) : target.name, value);
          }
          writes.set(target, earlier + 1);
        }
        staged.push(this.stage(target, value));
      } catch (error) {
        if (!(error instanceof StateError)) throw error;
        errors[identifier] = Object.freeze({ code: error.code, message: error.message });
        failures++;
      }
    }
    if (failures > 0) {
      const first = Object.values(errors)[0]?.message ?? '';
      throw new StateError(
        'batch_failed',
        `updateVariables: ${failures} of ${pairs.length} updates failed, nothing was changed (first: ${first})`,
        { rule: 'atomic', errors: Object.freeze(errors) },
      );
    }
    const now = coarseNow();
    let changes: Change[] | undefined;
    for (const item of staged) {
      const target = item.target;
      const watched = this.subscriptionsOf(target) !== undefined;
      const oldValue = watched ? this.valueOf(target) : undefined;
      this.apply(item, now, extra);
      if (watched) (changes ??= []).push(this.changeOf(target, oldValue, 'set'));
    }
    this.totalOperations += staged.length;
    this.totalUpdates += staged.length;
    // After the whole batch has committed, in the batch's order.
    if (changes !== undefined) this.dispatcher.deliver(changes);
  }

  listVariables(): VariableInfo[] {
    this.assertOpen();
    return this.targetsInOrder().map((target) => this.infoOf(target));
  }

  deleteVariable(identifier: string): void {
    const target = this.resolve(identifier);
    if (target === undefined) throw this.missing(identifier);
    const subscriptions = this.subscriptionsOf(target);
    const change = subscriptions === undefined ? undefined : this.changeOf(target, this.valueOf(target), 'delete');
    if (typeof target === 'number') (this.table as NumericTable).remove(target);
    else this.unlink(target);
    this.variableCount--;
    this.totalOperations++;
    if (change !== undefined && subscriptions !== undefined) {
      // The delete event is the last one: that variable's part of each watch ends here,
      // and a watcher left with nothing to watch ends after it has had the event.
      for (const subscription of [...subscriptions]) this.forget(subscription, true);
      this.dispatcher.deliver([change]);
    }
  }

  /**
   * Calls `callback` after every committed change to the variables named by `identifiers`
   * (ids or names). Throws `not_found`, registering nothing, when any identifier is missing.
   */
  watchVariables(identifiers: readonly string[], callback: (event: WatchEvent) => void, options: WatchOptions = {}): Watch {
    this.assertOpen();
    if (!Array.isArray(identifiers) || identifiers.length === 0) {
      throw invalidArgument('watchVariables: identifiers must be a non-empty array of strings');
    }
    if (typeof callback !== 'function') throw invalidArgument('watchVariables: callback must be a function');
    const parsed = watchOptionsSchema.safeParse(options);
    if (!parsed.success) throw invalidArgument(`watchVariables: ${zodMessage(parsed.error)}`, { rule: 'options' });
    const targets: Array<[Target, string]> = [];
    for (const identifier of identifiers) {
      const target = this.resolve(identifier);
      if (target === undefined) throw this.missing(identifier);
      if (!targets.some(([t]) => t === target)) targets.push([target, identifier]);
    }
    const watcher = new Watcher(`watch_${this.nextWatcherId++}`, callback, options, coarseNow(), (w) => this.stopWatching(w));
    const signal = options.signal;
    if (signal?.aborted) {
      watcher.active = false;
      return watcher;
    }
    const table = this.table as NumericTable;
    for (const [target, identifier] of targets) {
      const [id, name] = typeof target === 'number' ? [table.id(target), table.name(target)] : [target.id, target.name];
      const subscription: Subscription = { watcher, identifier, target, id, name };
      watcher.subscriptions.push(subscription);
      this.subscribe(target, subscription);
    }
    this.watchers.set(watcher.id, watcher);
    if (signal !== undefined) {
      watcher.abortListener = () => watcher.unwatch();
      signal.addEventListener('abort', watcher.abortListener, { once: true });
    }
    if (options.includeInitial === true) {
      const initial = watcher.subscriptions.map((subscription) => ({
        ...this.changeOf(subscription.target as Target, undefined, 'initial'),
        subscriptions: [subscription],
      }));
      try {
        this.dispatcher.deliver(initial);
      } catch (error) {
        // The caller gets no handle when this throws, so the watch must not outlive the call.
        this.stopWatching(watcher);
        throw error;
      }
    }
    return watcher;
  }

  /** Stops a watch, given the object watchVariables returned or its id. Unknown or stopped: nothing happens. */
  unwatchVariables(watch: Watch | string): void {
    const id = typeof watch === 'string' ? watch : watch?.id;
    const watcher = typeof id === 'string' ? this.watchers.get(id) : undefined;
    // Watch ids are per store: an object from another store is not this store's watch.
    if (watcher !== undefined && (typeof watch === 'string' || watcher === watch)) watcher.unwatch();
  }

  /** The active watches, oldest first: for debugging. */
  listWatchers(): WatcherInfo[] {
    this.assertOpen();
    return [...this.watchers.values()].map((watcher) => watcher.info());
  }

  /** A handle for hot loops: resolves once, then reads and writes without a name lookup. */
  ref<T extends VariableValue = VariableValue>(identifier: string): VariableRef<T> {
    const target = this.resolve(identifier);
    if (target === undefined) throw this.missing(identifier);
    if (typeof target === 'number') {
      const table = this.table as NumericTable;
      const Ref = (target & 1) === 1 ? BooleanRef : NumberRef;
      return new Ref(this, table, target, table.order(target)) as unknown as VariableRef<T>;
    }
    return new RecordRef(this, target) as unknown as VariableRef<T>;
  }

  exportState(): StateSnapshot {
    this.assertOpen();
    const items = this.targetsInOrder().map(
      (target): ExportItem => ({
        ...this.infoOf(target),
        spec: typeof target === 'number' ? (this.table as NumericTable).spec(target) : target.spec,
      }),
    );
    return buildSnapshot(this.sessionId, items, this.sessionMetadata(), this.counters());
  }

  /** Validates the whole payload, then adds every variable; on any failure nothing is added. */
  importState(snapshot: unknown): void {
    this.assertOpen();
    const { sessionId: importedFrom, variables: incoming } = parseSnapshot(snapshot);
    for (const item of incoming) {
      for (const taken of [item.name, item.id]) {
        if (this.nameTaken(taken) || this.resolve(taken) !== undefined) {
          throw new StateError(
            'already_exists',
            `importState: ${quote(taken)} (variable ${quote(item.name)}) already exists in this store`,
            {
              variable: item.name,
              rule: 'name',
            },
          );
        }
      }
    }
    if (this.table !== undefined) {
      const numeric = incoming.reduce((n, item) => n + (item.spec.numeric ? 1 : 0), 0);
      // Reserve first, so no insert below can fail halfway for lack of memory.
      const status = this.table.reserve(numeric);
      if (status !== this.table.statusOk) throw this.statusError(status, `importState of ${incoming.length} variables`);
    }
    for (const item of incoming) {
      this.add(item);
      if (item.serial >= this.nextSerial) this.nextSerial = item.serial + 1;
    }
    // Frozen: an export hands this object out.
    this.lastImport = Object.freeze({ sessionId: importedFrom, variables: incoming.length, at: coarseNow() });
  }

  capabilities(): Capabilities {
    this.assertOpen();
    return CAPABILITIES;
  }

  requiresBridge(): boolean {
    this.assertOpen();
    return false;
  }

  stats(): StateStats {
    this.assertOpen();
    return this.counters();
  }

  /** Ends the store: every later call (refs included) throws `closed`. Idempotent. */
  cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of this.watchers.values()) this.stopWatching(watcher);
    for (const variable of this.index.values()) variable.live = false;
    for (const variable of this.shadowed.values()) variable.live = false;
    this.index.clear();
    this.shadowed.clear();
    this.table?.clear();
  }

  // ─── internals ───────────────────────────────────────────────────────────

  /**
   * The variable an identifier names, trying a numeric name first: no record id can equal a string
   * that cannot be an id. Every call by identifier comes through here; V8 inlines it (a hand-inlined
   * copy in getVariable/setVariable measured the same).
   */
  private resolveFast(identifier: string): Target | undefined {
    const table = this.table;
    if (table !== undefined) {
      const code = table.byName.get(identifier);
      if (code !== undefined && !mayBeId(identifier)) return code;
    }
    return this.resolve(identifier);
  }

  /** @internal The variable an identifier names: an id first (record or numeric), then a name. */
  resolve(identifier: string): Target | undefined {
    if (typeof identifier !== 'string') return undefined; // reported by missing() as invalid_argument
    const record = this.index.get(identifier);
    if (record !== undefined && record.id === identifier) return record;
    const table = this.table;
    if (table !== undefined) {
      const byId = table.findId(identifier);
      if (byId !== undefined) return byId;
    }
    if (record !== undefined) return record;
    return table?.byName.get(identifier);
  }

  private subscriptionsOf(target: Target): Subscription[] | undefined {
    if (typeof target !== 'number') return target.subscriptions;
    const table = this.table as NumericTable;
    // The flag first: an unwatched variable costs no Map lookup.
    return table.watched[target >>> 1] === 0 ? undefined : table.subscriptions.get(target >>> 1);
  }

  private subscribe(target: Target, subscription: Subscription): void {
    if (typeof target !== 'number') {
      (target.subscriptions ??= []).push(subscription);
      return;
    }
    const table = this.table as NumericTable;
    const handle = target >>> 1;
    const list = table.subscriptions.get(handle);
    if (list === undefined) table.subscriptions.set(handle, [subscription]);
    else list.push(subscription);
    table.watched[handle] = 1;
  }

  /** Removes one subscription from its variable (and its watcher), ending the watcher when nothing is left. */
  private forget(subscription: Subscription, byDelete = false): void {
    const watcher = subscription.watcher;
    const index = watcher.subscriptions.indexOf(subscription);
    if (index >= 0) watcher.subscriptions.splice(index, 1);
    const target = subscription.target as Target;
    const list = this.subscriptionsOf(target);
    if (list !== undefined) {
      const at = list.indexOf(subscription);
      if (at >= 0) list.splice(at, 1);
      if (list.length === 0) {
        if (typeof target === 'number') {
          const table = this.table as NumericTable;
          table.subscriptions.delete(target >>> 1);
          table.watched[target >>> 1] = 0;
        } else target.subscriptions = undefined;
      }
    }
    if (watcher.subscriptions.length === 0) this.stopWatching(watcher, byDelete);
  }

  private stopWatching(watcher: Watcher, byDelete = false): void {
    if (!watcher.active) {
      // An explicit unwatch after the last delete still drops the events not yet delivered.
      if (!byDelete) watcher.endedByDelete = false;
      return;
    }
    watcher.active = false;
    watcher.endedByDelete = byDelete;
    this.watchers.delete(watcher.id);
    if (watcher.abortListener !== undefined) watcher.options.signal?.removeEventListener('abort', watcher.abortListener);
    for (const subscription of [...watcher.subscriptions]) this.forget(subscription);
  }

  /** What a watcher is told about a variable; `subscriptions` is the variable's current list. */
  private changeOf(target: Target, oldValue: VariableValue | undefined, kind: WatchEventKind): Change {
    // Only the fields an event carries: infoOf would also build constraints for every notification.
    const table = this.table as NumericTable;
    const numeric = typeof target === 'number';
    const subscriptions = this.subscriptionsOf(target) ?? [];
    const first = subscriptions[0];
    return {
      // A copy: the variable's list may change (watch, unwatch, delete) before delivery.
      subscriptions: [...subscriptions],
      id: first?.id ?? (numeric ? table.id(target) : target.id),
      name: first?.name ?? (numeric ? table.name(target) : target.name),
      oldValue,
      newValue: kind === 'delete' ? undefined : this.valueOf(target),
      version: this.versionOf(target),
      metadata: numeric ? table.metadata(target) : target.metadata,
      kind,
    };
  }

  private valueOf(target: Target): VariableValue {
    return typeof target === 'number' ? (this.table as NumericTable).read(target) : target.value;
  }

  /** @internal */
  versionOf(target: Target): number {
    return typeof target === 'number' ? (this.table as NumericTable).version(target) : target.version;
  }

  /** @internal One validated, versioned write; a failure changes nothing. */
  write(target: Target, value: unknown, metadata: unknown): void {
    if (typeof target === 'number') {
      this.writeNumeric(this.table as NumericTable, target, value, metadata);
      return;
    }
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, `Variable ${quote(target.name)}`);
    const oldValue = target.value;
    target.value = this.storedOf(target, value);
    target.version++;
    target.lastUpdatedAt = coarseNow();
    if (extra !== undefined) target.metadata = mergeMetadata(target.metadata, extra);
    this.totalOperations++;
    this.totalUpdates++;
    if (target.subscriptions !== undefined) this.dispatcher.deliver([this.changeOf(target, oldValue, 'set')]);
  }

  /** @internal The hot write: the value goes to wasm, which checks type and bounds and bumps the version. */
  writeNumeric(table: NumericTable, code: number, value: unknown, metadata: unknown): void {
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, `Variable ${quote(table.name(code))}`);
    const cell = typeof value === 'number' ? value : this.cellOf(table, code, value);
    // The one thing watching costs an unwatched write: this flag load.
    const watched = table.watched[code >>> 1] !== 0;
    const oldValue = watched ? table.read(code) : undefined;
    const status = table.setAt(code >>> 1, cell, coarseNow());
    if (status !== table.statusOk) throw this.rejection(table, code, status, value);
    if (extra !== undefined) table.setMetadata(code, mergeMetadata(table.metadata(code), extra));
    this.totalOperations++;
    this.totalUpdates++;
    if (watched) this.dispatcher.deliver([this.changeOf(code, oldValue, 'set')]);
  }

  /** Validates a batch item without changing anything. */
  private stage(target: Target, value: unknown): Staged {
    if (typeof target === 'number') {
      const table = this.table as NumericTable;
      const cell = typeof value === 'number' ? value : this.cellOf(table, target, value);
      const status = table.checkAt(target >>> 1, cell);
      if (status !== table.statusOk) throw this.rejection(table, target, status, value);
      return { target, value: cell };
    }
    return { target, value: this.storedOf(target, value) };
  }

  private apply(item: Staged, now: number, extra: Metadata | undefined): void {
    const target = item.target;
    if (typeof target === 'number') {
      const table = this.table as NumericTable;
      const status = table.setAt(target >>> 1, item.value as number, now);
      // Staging checked this exact write; a failure here is a bug, not bad input.
      if (status !== table.statusOk)
        throw new Error(`localstate-wasm: staged write to ${quote(table.name(target))} failed with status ${status}`);
      if (extra !== undefined) table.setMetadata(target, mergeMetadata(table.metadata(target), extra));
      return;
    }
    target.value = item.value;
    target.version++;
    target.lastUpdatedAt = now;
    if (extra !== undefined) target.metadata = mergeMetadata(target.metadata, extra);
  }

  /** The f64 for a non-number input to a numeric variable ('NaN', true, 'false', …), or `invalid_value`. */
  private cellOf(table: NumericTable, code: number, value: unknown): number {
    const spec = table.spec(code);
    const coerced = coerce(spec, value);
    if (coerced === undefined) throw invalidValue(table.name(code), spec, value);
    return toCell(coerced);
  }

  /** The stored form of a record's value, checked against type, constraints and the version limit. */
  private storedOf(variable: Variable, value: unknown): VariableValue {
    const stored = coerce(variable.spec, value);
    if (stored === undefined) throw invalidValue(variable.name, variable.spec, value);
    const violation = variable.spec.violation(stored, variable.rules);
    if (violation !== undefined) throw constraintViolation(variable.name, violation, value);
    if (variable.version >= Number.MAX_SAFE_INTEGER) throw versionLimit(variable.name, value);
    return stored;
  }

  /** Turns a wasm status for a write to a numeric variable into the error the user sees. */
  private rejection(table: NumericTable, code: number, status: number, input: unknown): StateError {
    const { STATUS_INVALID_VALUE, STATUS_BELOW_MIN, STATUS_ABOVE_MAX, STATUS_VERSION_LIMIT } = table.core.constants;
    const name = table.name(code);
    if (status === STATUS_INVALID_VALUE) return invalidValue(name, table.spec(code), input);
    if (status === STATUS_VERSION_LIMIT) return versionLimit(name, input);
    if (status === STATUS_BELOW_MIN || status === STATUS_ABOVE_MAX) {
      const bounds = table.bounds(code);
      const violation =
        status === STATUS_BELOW_MIN ? { rule: 'min', expected: `>= ${bounds.min}` } : { rule: 'max', expected: `<= ${bounds.max}` };
      return constraintViolation(name, violation, input);
    }
    return this.statusError(status, `write to ${quote(name)}`);
  }

  private statusError(status: number, what: string): StateError {
    const c = (this.table as NumericTable).core.constants;
    if (status === c.STATUS_OUT_OF_MEMORY) {
      return new StateError('out_of_memory', `${what}: the wasm table cannot grow within maxMemoryBytes`, { rule: 'maxMemoryBytes' });
    }
    return invalidArgument(`${what}: wasm status ${status}`);
  }

  /** @internal The error for an identifier that resolves to nothing. */
  missing(identifier: unknown): StateError {
    if (this.closed) return closedError();
    if (typeof identifier !== 'string') {
      return invalidArgument(`identifier must be a string (an id or a name), got ${describeValue(identifier)}`, { rule: 'identifier' });
    }
    return new StateError('not_found', `No variable with id or name ${quote(identifier)}`, { variable: identifier });
  }

  /** @internal The error for a ref whose variable is gone. */
  staleRef(name: string, id: string): StateError {
    if (this.closed) return closedError();
    return new StateError('not_found', `Variable ${quote(name)} (${id}) was deleted`, { variable: name });
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private nameTaken(name: string): boolean {
    const holder = this.index.get(name);
    return (holder !== undefined && holder.name === name) || this.shadowed.has(name) || this.table?.byName.has(name) === true;
  }

  /** The next serial whose id `var_<name>_<n>` is not already some variable's name (so no id shadows a name). */
  private nextFreeSerial(name: string): number {
    for (;;) {
      // Reached only through an import of an id near MAX_SERIAL: an id must never stop parsing, or repeat.
      if (this.nextSerial > MAX_SERIAL) {
        throw invalidArgument(
          `registerVariable: this store has used every id serial up to ${MAX_SERIAL} (an import carried the last one)`,
          {
            rule: 'serial',
          },
        );
      }
      const serial = this.nextSerial++;
      if (!this.nameTaken(idOf(name, serial))) return serial;
    }
  }

  /** Adds a validated variable: to the wasm table when it is numeric and there is one, else as a record. */
  private add(item: {
    readonly serial: number;
    readonly name: string;
    readonly spec: TypeSpec;
    readonly constraints: unknown;
    readonly rules: unknown;
    readonly metadata: Metadata;
    readonly value: VariableValue;
    readonly version: number;
    readonly createdAt: number;
    readonly lastUpdatedAt: number;
  }): void {
    const order = this.nextOrder++;
    if (item.spec.numeric && this.table !== undefined) {
      const code = this.table.insert({
        name: item.name,
        spec: item.spec,
        cell: toCell(item.value),
        bounds: (item.rules as Bounds | undefined) ?? { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY },
        version: item.version,
        createdAt: item.createdAt,
        updatedAt: item.lastUpdatedAt,
        serial: item.serial,
        order,
        metadata: item.metadata,
      });
      if (code < 0) throw this.statusError(-code, `registerVariable ${quote(item.name)}`);
    } else {
      const id = idOf(item.name, item.serial);
      const { name, spec, constraints, rules, metadata, createdAt, value, version, lastUpdatedAt } = item;
      this.link(new Variable(id, name, spec, constraints, rules, metadata, createdAt, order, value, version, lastUpdatedAt));
    }
    this.variableCount++;
  }

  /** Indexes a record's id and name. An id wins over an equal name; the name is kept aside until the id goes. */
  private link(variable: Variable): void {
    const holder = this.index.get(variable.id);
    if (holder !== undefined) {
      this.shadowed.set(variable.id, holder);
      this.index.delete(variable.id); // re-added below, so the map keeps registration order of ids
    }
    this.index.set(variable.id, variable);
    if (this.index.has(variable.name)) this.shadowed.set(variable.name, variable);
    else this.index.set(variable.name, variable);
  }

  private unlink(variable: Variable): void {
    if (this.index.get(variable.name) === variable) this.index.delete(variable.name);
    else this.shadowed.delete(variable.name);
    this.index.delete(variable.id);
    const hidden = this.shadowed.get(variable.id);
    if (hidden !== undefined) {
      this.shadowed.delete(variable.id);
      this.index.set(variable.id, hidden);
    }
    variable.live = false;
  }

  /** Every live variable in registration order: records (id keys of the index) merged with numeric codes. */
  private targetsInOrder(): Target[] {
    const records: Variable[] = [];
    for (const [key, variable] of this.index) if (key === variable.id) records.push(variable);
    const table = this.table;
    if (table === undefined || table.byName.size === 0) return records;
    const codes = [...table.byName.values()];
    const merged: Target[] = [];
    let r = 0;
    let n = 0;
    while (r < records.length || n < codes.length) {
      const record = records[r];
      const code = codes[n];
      if (code === undefined || (record !== undefined && record.order < table.order(code))) {
        merged.push(record as Variable);
        r++;
      } else {
        merged.push(code);
        n++;
      }
    }
    return merged;
  }

  private infoOf(target: Target): VariableInfo {
    if (typeof target === 'number') {
      const table = this.table as NumericTable;
      return {
        id: table.id(target),
        name: table.name(target),
        type: table.typeOf(target),
        value: table.read(target),
        constraints: table.constraints(target),
        metadata: table.metadata(target),
        version: table.version(target),
        createdAt: table.createdAt(target),
        lastUpdatedAt: table.updatedAt(target),
      };
    }
    return {
      id: target.id,
      name: target.name,
      type: target.spec.type,
      value: target.value,
      constraints: target.spec.copyConstraints(target.constraints) as Record<string, unknown>,
      metadata: target.metadata,
      version: target.version,
      createdAt: target.createdAt,
      lastUpdatedAt: target.lastUpdatedAt,
    };
  }

  private counters(): StateStats & Record<string, number> {
    return { variableCount: this.variableCount, totalOperations: this.totalOperations, totalUpdates: this.totalUpdates };
  }

  private sessionMetadata(): Record<string, JsonValue> {
    const metadata: Record<string, JsonValue> = { backend: this.backend, createdAt: this.createdAt };
    if (this.lastImport) metadata.lastImport = this.lastImport;
    return metadata;
  }
}

/** A version must stay an exact integer: at 2^53 - 1 the variable takes no more writes. */
function versionLimit(name: string, input: unknown): StateError {
  return constraintViolation(name, { rule: 'version', expected: `version is at its limit ${Number.MAX_SAFE_INTEGER}` }, input);
}

function closedError(): StateError {
  return new StateError('closed', 'This store was cleaned up; create a new one with init()');
}

function toPairs(updates: Updates): Array<[string, unknown]> {
  try {
    return readPairs(updates);
  } catch (error) {
    if (error instanceof StateError) throw error;
    // A getter or a Proxy trap threw while the updates were read.
    throw invalidArgument(`updateVariables: the updates could not be read: ${String(error)}`);
  }
}

function readPairs(updates: Updates): Array<[string, unknown]> {
  if (updates instanceof Map) {
    const pairs: Array<[string, unknown]> = [];
    for (const [key, value] of updates) {
      if (typeof key !== 'string') throw invalidArgument(`updateVariables: Map key ${describeValue(key)} is not a string`);
      pairs.push([key, value]);
    }
    return pairs;
  }
  if (updates === null || typeof updates !== 'object' || Array.isArray(updates)) {
    throw invalidArgument('updateVariables: updates must be an object or a Map of identifier → value');
  }
  const record = updates as Readonly<Record<string, unknown>>;
  return Object.keys(record).map((key) => [key, record[key]]);
}

/**
 * A ref to a numeric variable: its code and the insertion order it had, so a handle reused by
 * another variable (or by the same id imported again) is never read through it.
 */
abstract class NumericRef<T extends number | boolean> implements VariableRef<T> {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  constructor(
    protected readonly store: Store,
    protected readonly table: NumericTable,
    protected readonly code: number,
    protected readonly order: number,
  ) {
    this.name = table.name(code);
    this.id = idOf(this.name, table.serial(code));
    this.type = table.typeOf(code);
  }
  get version(): number {
    if (!this.table.isLive(this.code, this.order)) throw this.stale();
    return this.table.version(this.code);
  }
  abstract get(): T;
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    if (this.table.orders[this.code >>> 1] !== this.order) throw this.stale();
    this.store.writeNumeric(this.table, this.code, value, metadata);
  }
  /** The stored f64, once the ref is known to be live; counts the get. */
  protected cell(): number {
    const table = this.table;
    const handle = this.code >>> 1;
    if (table.orders[handle] !== this.order) throw this.stale();
    this.store.totalOperations++;
    return table.f64[table.valueBase + handle * table.stride] as number;
  }
  protected stale(): StateError {
    return this.store.staleRef(this.name, this.id);
  }
}

class NumberRef extends NumericRef<number> {
  get(): number {
    return this.cell();
  }
}

class BooleanRef extends NumericRef<boolean> {
  get(): boolean {
    return this.cell() === 1;
  }
}

class RecordRef implements VariableRef {
  constructor(
    private readonly store: Store,
    private readonly variable: Variable,
  ) {}
  get id(): string {
    return this.variable.id;
  }
  get name(): string {
    return this.variable.name;
  }
  get type(): VariableType {
    return this.variable.spec.type;
  }
  get version(): number {
    if (!this.variable.live) throw this.stale();
    return this.variable.version;
  }
  get(): VariableValue {
    const variable = this.variable;
    if (!variable.live) throw this.stale();
    this.store.totalOperations++;
    return variable.value;
  }
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    if (!this.variable.live) throw this.stale();
    this.store.write(this.variable, value, metadata);
  }
  private stale(): StateError {
    return this.store.staleRef(this.variable.name, this.variable.id);
  }
}
