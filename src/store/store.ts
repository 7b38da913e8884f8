// The synchronous store behind LocalState and JsLocalState: the contract
// (resolution, validation, versions, conditional writes, atomic batches,
// export/import, refs, watching, counters), written once. Where a variable
// lives is its storage's business (../storage/): JsLocalState keeps every
// variable as a record; LocalState keeps float, integer and boolean variables
// in the wasm table. The hot paths (get, set, refs, batches) reach into the
// two kinds directly; everything else goes through the Storage interface.

import { randomUUID } from 'node:crypto';
import { checkRegistrationBody, checkRegistrationHead, checkWrite, versionLimit } from '../checks.js';
import { coarseNow } from '../clock.js';
import {
  alreadyExists,
  closedError,
  describeValue,
  invalidArgument,
  notFound,
  quote,
  StateError,
  setItemChecks,
  versionConflict,
} from '../errors.js';
import { idOf, serialOf } from '../ids.js';
import { copyMetadata, type JsonValue, type Metadata, mergeMetadata, setOwn } from '../metadata.js';
import { type BatchOptions, expectedVersion, versionGuards, type WriteOptions } from '../options.js';
import type { Capabilities, RegisterOptions, StateProvider, StateStats, Updates, VariableInfo, VariableRef } from '../provider.js';
import { buildSnapshot, type ExportItem, parseSnapshot, type StateSnapshot } from '../snapshot.js';
import { type NumericTable, WATCHED } from '../storage/numeric-table.js';
import { records } from '../storage/records.js';
import type { NewVariable, NumericCode, Storage, Target } from '../storage/storage.js';
import type { Variable } from '../storage/variable.js';
import type { VariableType, VariableValue } from '../types/index.js';
import type { Change, Watch, WatchEvent, WatcherInfo, WatchOptions } from '../watch.js';
import { BatchErrors, readUpdates } from './batch.js';
import type { Journal, PersistenceInfo, StoredVariable } from './journal.js';
import { numericRef, RecordRef } from './refs.js';
import { Registry } from './registry.js';
import { Watching } from './watching.js';

/** Which backend a store is, as its exports name it. */
export type BackendName = 'wasm' | 'js';

const CAPABILITIES: Capabilities = Object.freeze({
  atomicUpdates: true,
  streaming: true,
  persistent: false,
  distributed: false,
});
const PERSISTENT_CAPABILITIES: Capabilities = Object.freeze({ ...CAPABILITIES, persistent: true });

export abstract class Store implements StateProvider<'sync'> {
  readonly sessionId: string;
  /** @internal The numeric variables in wasm (LocalState), or undefined (JsLocalState). */
  readonly table: NumericTable | undefined;
  /** @internal */
  readonly registry: Registry;
  /** The registry's index and the table's value cache, held here so a read by name loads one field less for each. */
  private readonly index: Map<string, Target>;
  private readonly numericValues: Array<VariableValue | undefined>;
  /** @internal Counted here, not in wasm: a field increment costs less than a call. */
  totalOperations = 0;
  /** @internal */
  totalUpdates = 0;
  /** @internal The journal of a persisted store (src/persist/), told of every committed write; undefined without `persist`. */
  journal: Journal | undefined = undefined;
  /** @internal */
  variableCount = 0;
  /**
   * Bumped by every registration, import, delete and cleanup. A write that runs the caller's code
   * while it reads its input (a getter in a value or in metadata, a Proxy) compares it afterwards:
   * such code may delete or replace the very variable being written, and the write must then be
   * refused, not land on a freed or reused slot (or in the journal as a write to a deleted variable).
   */
  private epoch = 0;
  /** @internal */
  closed = false;
  /** @internal When the store was first created (kept across reopenings of a persisted store). */
  createdAt = coarseNow();
  /** @internal */
  lastImport: Readonly<Record<string, JsonValue>> | undefined;
  private readonly backend: BackendName;
  private readonly watching: Watching;
  /** @internal */
  readonly storageOf: (target: Target) => Storage<Target>;

  /** @internal */
  protected constructor(sessionId: string | undefined, table: NumericTable | undefined) {
    this.table = table;
    this.backend = table === undefined ? 'js' : 'wasm';
    this.sessionId = sessionId ?? `session_${randomUUID()}`;
    this.registry = new Registry(table);
    this.index = this.registry.index;
    this.numericValues = table === undefined ? [] : table.values;
    const recordStorage = records as Storage<Target>;
    const numericStorage = (table ?? records) as Storage<Target>;
    this.storageOf = (target) => (typeof target === 'number' ? numericStorage : recordStorage);
    this.watching = new Watching(this.storageOf);
  }

  registerVariable(name: string, type: VariableType, initialValue: unknown, options?: RegisterOptions): string {
    this.assertWritable();
    const epoch = this.epoch;
    const head = checkRegistrationHead(name, type, options);
    if (this.registry.nameTaken(name)) throw alreadyExists(name);
    const { spec, constraints, rules, metadata, value } = checkRegistrationBody(head, initialValue);
    if (this.epoch !== epoch) throw changedWhileReading(`registerVariable ${quote(name)}`);
    const now = coarseNow();
    const [serialBefore, orderBefore] = this.registry.mark();
    const serial = this.registry.takeSerial(name);
    let target: Target;
    try {
      target = this.add({ serial, name, spec, constraints, rules, metadata, value, version: 0, createdAt: now, lastUpdatedAt: now });
    } catch (error) {
      // out_of_memory: a failed registration must not use up an id or a place in the order either.
      this.registry.restore(serialBefore, orderBefore);
      throw error;
    }
    this.totalOperations++;
    if (this.journal !== undefined) this.journal.registered(this.describe(target));
    return idOf(name, serial);
  }

  getVariable(identifier: string): VariableValue {
    // The hot read: one Map lookup (whatever it finds is what the identifier resolves to, see
    // Registry), then the record's field or the numeric value mirror.
    const target = this.index.get(identifier);
    if (target !== undefined) {
      this.totalOperations++;
      return this.valueOf(target);
    }
    const resolved = this.resolve(identifier);
    this.totalOperations++;
    return this.storageOf(resolved).value(resolved);
  }

  setVariable(identifier: string, value: unknown, metadata?: Readonly<Record<string, unknown>>, options?: WriteOptions): void {
    let target = this.index.get(identifier);
    if (target === undefined) target = this.resolve(identifier);
    if (options !== undefined) this.checkVersion(target, expectedVersion(options));
    if (typeof target === 'number') this.writeNumeric(target, value, metadata);
    else this.writeRecord(target, value, metadata);
  }

  getVariables(identifiers: readonly string[]): Record<string, VariableValue> {
    this.assertOpen();
    if (!Array.isArray(identifiers)) throw invalidArgument('getVariables: identifiers must be an array of strings');
    const result: Record<string, VariableValue> = {};
    const index = this.index;
    for (const identifier of identifiers) {
      let target = index.get(identifier);
      if (target === undefined) {
        if (typeof identifier !== 'string') throw invalidArgument(`getVariables: identifier ${describeValue(identifier)} is not a string`);
        target = this.registry.resolve(identifier);
        if (target === undefined) continue; // missing identifiers are left out
      }
      setOwn(result, identifier, this.valueOf(target));
    }
    this.totalOperations += identifiers.length;
    return result;
  }

  /**
   * Validates every item (and every version guard), then applies every item, or none: any failure
   * throws `batch_failed` listing each failing item by identifier as given.
   */
  updateVariables(updates: Updates, metadata?: Readonly<Record<string, unknown>>, options?: BatchOptions): void {
    this.assertWritable();
    const { identifiers, values } = readUpdates(updates);
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, 'updateVariables');
    const guards = options === undefined ? undefined : new Map(versionGuards(options));
    const count = identifiers.length;
    const table = this.table;
    // Per item, in order: its target (undefined where it failed), and what to store: for a record the
    // checked value, for a numeric variable the f64 its entry takes.
    const targets = new Array<Target | undefined>(count);
    const stored = new Array<VariableValue | undefined>(count);
    let errors: BatchErrors | undefined;
    // A variable named twice (by name and by id) is written twice; that matters only within count of
    // the version limit, so writes are counted only there.
    const nearLimit = Number.MAX_SAFE_INTEGER - count;
    let writes: Map<Target, number> | undefined;
    // The checks below run the caller's getters (tensor data, embeddings): they must not change the store.
    const epoch = this.epoch;
    const updatesBefore = this.totalUpdates;
    let total = count;
    const outer = setItemChecks(true);
    try {
      for (let position = 0; position < count; position++) {
        const identifier = identifiers[position] as string;
        const value = values[position];
        // Reading an object runs the caller's code (getters, Proxy traps): errors made meanwhile keep their stacks.
        const callerCode = typeof value === 'object' && value !== null;
        if (callerCode) setItemChecks(false);
        try {
          const target = this.lookup(identifier);
          if (guards !== undefined) this.checkVersion(target, guards.get(identifier));
          let version: number;
          if (typeof target === 'number') {
            // The table's rule in TypeScript, as a ref's write: no call into wasm for a batch (two calls
            // per batch cost a 7-item mixed batch ~20% against JsLocalState).
            const numericTable = table as NumericTable;
            const cell = numericTable.cellOf(target, value);
            const status = numericTable.check(target, cell);
            if (status !== numericTable.statusOk) throw numericTable.rejection(target, status, value);
            stored[position] = cell;
            version = numericTable.version(target);
          } else {
            stored[position] = checkWrite(target, value);
            version = target.version;
          }
          if (version >= nearLimit) {
            // The value's own checks first, then this batch's earlier writes.
            writes ??= new Map();
            const earlier = writes.get(target) ?? 0;
            if (version + earlier >= Number.MAX_SAFE_INTEGER) throw versionLimit(this.storageOf(target).name(target), value);
            writes.set(target, earlier + 1);
          }
          targets[position] = target;
        } catch (error) {
          (errors ??= new BatchErrors()).add(position, identifier, error);
        }
        if (callerCode) setItemChecks(true);
      }
      if (guards !== undefined) {
        // Guards on variables the batch does not write: read guards.
        const written = new Set(identifiers);
        for (const [identifier, expected] of guards) {
          if (written.has(identifier)) continue;
          try {
            this.checkVersion(this.resolve(identifier), expected);
          } catch (error) {
            (errors ??= new BatchErrors()).add(total, identifier, error);
          }
          total++;
        }
      }
    } finally {
      setItemChecks(outer);
    }
    if (this.epoch !== epoch || this.totalUpdates !== updatesBefore) throw changedWhileReading('updateVariables');
    if (errors !== undefined) throw errors.error(total);
    // Every item passed: apply them all, in order.
    const now = coarseNow();
    let changes: Change[] | undefined;
    for (let position = 0; position < count; position++) {
      const target = targets[position] as Target;
      if (typeof target === 'number') {
        const numericTable = table as NumericTable;
        const watched = ((numericTable.flags[target >>> 1] as number) & WATCHED) !== 0;
        const oldValue = watched ? numericTable.value(target) : undefined;
        const cell = stored[position] as number;
        numericTable.writeAt(target, cell, now, values[position]);
        if (extra !== undefined) numericTable.setMetadata(target, mergeMetadata(numericTable.metadata(target), extra));
        if (watched) {
          const newValue = numericTable.value(target);
          (changes ??= []).push(this.watching.change(target, oldValue, newValue, numericTable.version(target), 'set'));
        }
        continue;
      }
      const oldValue = target.value;
      records.apply(target, stored[position] as VariableValue, now);
      if (extra !== undefined) target.metadata = mergeMetadata(target.metadata, extra);
      if (target.subscriptions !== undefined) {
        (changes ??= []).push(this.watching.change(target, oldValue, target.value, target.version, 'set'));
      }
    }
    this.totalOperations += count;
    this.totalUpdates += count;
    if (this.journal !== undefined) this.journal.batch(targets, stored, extra, now);
    // After the whole batch has committed, in the batch's order.
    if (changes !== undefined) this.watching.dispatcher.deliver(changes);
  }

  listVariables(): VariableInfo[] {
    this.assertOpen();
    return this.inOrder().map((target) => this.infoOf(target));
  }

  deleteVariable(identifier: string): void {
    const target = this.lookup(identifier);
    this.assertWritable();
    const storage = this.storageOf(target);
    const order = storage.order(target);
    const change = this.watching.deleted(target);
    this.registry.unlink(target, storage.name(target));
    storage.remove(target);
    this.variableCount--;
    this.epoch++;
    this.totalOperations++;
    if (this.journal !== undefined) this.journal.deleted(order);
    if (change !== undefined) this.watching.dispatcher.deliver([change]);
  }

  /**
   * Calls `callback` after every committed change to the variables named by `identifiers`
   * (ids or names). Throws `not_found`, registering nothing, when any identifier is missing.
   */
  watchVariables(identifiers: readonly string[], callback: (event: WatchEvent) => void, options: WatchOptions = {}): Watch {
    this.assertOpen();
    Watching.validate(identifiers, callback, options);
    const targets: Array<[Target, string]> = [];
    for (const identifier of identifiers) {
      const target = this.resolve(identifier);
      if (!targets.some(([t]) => t === target)) targets.push([target, identifier]);
    }
    return this.watching.watch(targets, callback, options, coarseNow());
  }

  /** Stops a watch, given the object watchVariables returned or its id. Unknown or stopped: nothing happens. */
  unwatchVariables(watch: Watch | string): void {
    this.watching.unwatch(watch);
  }

  /** The active watches, oldest first: for debugging. */
  listWatchers(): WatcherInfo[] {
    this.assertOpen();
    return this.watching.list();
  }

  /** A handle for hot loops: resolves once, then reads and writes without a name lookup. */
  ref<T extends VariableValue = VariableValue>(identifier: string): VariableRef<T> {
    const target = this.lookup(identifier);
    const ref = typeof target === 'number' ? numericRef(this, this.table as NumericTable, target) : new RecordRef(this, target);
    return ref as unknown as VariableRef<T>;
  }

  exportState(): StateSnapshot {
    this.assertOpen();
    const items = this.inOrder().map((target) => this.exportItem(target));
    return buildSnapshot(this.sessionId, items, this.sessionMetadata(), this.counters(), this.registry.serialFloor);
  }

  /** Validates the whole payload, then adds every variable; on any failure nothing is added. */
  importState(snapshot: unknown): void {
    this.assertWritable();
    const { sessionId: importedFrom, variables: incoming, nextSerial } = parseSnapshot(snapshot);
    for (const item of incoming) {
      for (const key of [item.name, item.id]) {
        if (this.registry.taken(key)) {
          throw new StateError('already_exists', `importState: ${quote(key)} (variable ${quote(item.name)}) already exists in this store`, {
            variable: item.name,
            rule: 'name',
          });
        }
      }
    }
    if (this.table !== undefined) {
      const numeric = incoming.reduce((n, item) => n + (item.spec.numeric ? 1 : 0), 0);
      // Reserve first, so no insert below can fail halfway for lack of memory.
      this.table.reserve(numeric, `importState of ${incoming.length} variables`);
    }
    const added = incoming.map((item) => {
      const target = this.add(item);
      this.registry.reserveSerial(item.serial);
      return target;
    });
    this.registry.reserveSerial(nextSerial - 1);
    const at = coarseNow();
    // Frozen: an export hands this object out.
    this.lastImport = Object.freeze({ sessionId: importedFrom, variables: incoming.length, at });
    if (this.journal !== undefined) {
      this.journal.imported(
        importedFrom,
        at,
        nextSerial,
        added.map((target) => this.describe(target)),
      );
    }
  }

  capabilities(): Capabilities {
    this.assertOpen();
    return this.journal === undefined ? CAPABILITIES : PERSISTENT_CAPABILITIES;
  }

  requiresBridge(): boolean {
    this.assertOpen();
    return false;
  }

  stats(): StateStats {
    this.assertOpen();
    return this.counters();
  }

  /**
   * Resolves once every write made so far is on disk (persisted stores; at once otherwise). Rejects
   * with `io_error` if a write or fsync failed, and with `closed` after cleanup().
   */
  async flush(): Promise<void> {
    this.assertOpen();
    if (this.journal !== undefined) await this.journal.flush();
  }

  /** Figures about the files of a persisted store (see the README's Persistence section); undefined without `persist`. */
  persistence(): PersistenceInfo | undefined {
    this.assertOpen();
    return this.journal?.info();
  }

  /**
   * Ends the store: every later call (refs included) throws `closed`. Idempotent. A persisted store
   * first flushes and syncs its journal, then closes its files; if that fails it throws `io_error`,
   * closed all the same.
   */
  cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    this.epoch++;
    this.watching.stopAll();
    for (const variable of this.registry.records()) variable.live = false;
    this.registry.clear();
    this.table?.clear();
    const journal = this.journal;
    this.journal = undefined;
    journal?.close();
  }

  // ─── internals ───────────────────────────────────────────────────────────

  /**
   * A variable's value: a record's field, or the numeric value cache (boxed from the entry once after
   * a write). NumericTable.value does the same, but through this.table and then table.values: two
   * dependent loads more on the hottest read (12-19 ns against 6-10 ns in the mixed store).
   */
  private valueOf(target: Target): VariableValue {
    if (typeof target !== 'number') return target.value;
    const value = this.numericValues[target >>> 1];
    return value !== undefined ? value : (this.table as NumericTable).box(target);
  }

  /** The variable an identifier names: one index lookup, which finds ids and names alike (see Registry). */
  private lookup(identifier: string): Target {
    const found = this.index.get(identifier);
    if (found !== undefined) return found;
    return this.resolve(identifier);
  }

  /** @internal The variable an identifier names (an id first, then a name), or the error a caller sees. */
  resolve(identifier: string): Target {
    const target = this.registry.resolve(identifier);
    if (target === undefined) throw this.missing(identifier);
    return target;
  }

  /** @internal One validated, versioned write to a record; a failure changes nothing. */
  writeRecord(variable: Variable, value: unknown, metadata: unknown): void {
    const journal = this.journal;
    if (journal !== undefined && journal.failure !== undefined) throw journal.failure;
    const epoch = this.epoch;
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, `Variable ${quote(variable.name)}`);
    const checked = checkWrite(variable, value);
    if (this.epoch !== epoch) throw changedWhileReading(`setVariable ${quote(variable.name)}`);
    const oldValue = variable.value;
    const now = coarseNow();
    records.apply(variable, checked, now);
    if (extra !== undefined) variable.metadata = mergeMetadata(variable.metadata, extra);
    this.totalOperations++;
    this.totalUpdates++;
    if (journal !== undefined) journal.record(variable, now, extra);
    if (variable.subscriptions !== undefined) {
      this.watching.dispatcher.deliver([this.watching.change(variable, oldValue, variable.value, variable.version, 'set')]);
    }
  }

  /** @internal The numeric write by name or through a ref's slow path. */
  writeNumeric(code: NumericCode, value: unknown, metadata: unknown): void {
    const journal = this.journal;
    // A read-only store (a write or fsync failed) refuses before anything changes.
    if (journal !== undefined && journal.failure !== undefined) throw journal.failure;
    // A number without metadata runs no caller code: the hot path goes straight on. So does true or
    // false to a boolean variable (its cell is 1 or 0); anything else is read, or coerced, first.
    if (metadata === undefined) {
      if (typeof value === 'number') {
        this.commitNumeric(code, value, undefined, value);
        return;
      }
      if (typeof value === 'boolean' && (code & 1) === 1) {
        this.commitNumeric(code, value ? 1 : 0, undefined, value);
        return;
      }
    }
    this.writeNumericInput(code, value, metadata);
  }

  /** A numeric write whose input may run caller code (metadata, a value to coerce): read it, then check the store is as it was. */
  private writeNumericInput(code: NumericCode, value: unknown, metadata: unknown): void {
    const table = this.table as NumericTable;
    const epoch = this.epoch;
    const name = table.name(code);
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, `Variable ${quote(name)}`);
    const cell = typeof value === 'number' ? value : table.cellOf(code, value);
    if (this.epoch !== epoch) throw changedWhileReading(`setVariable ${quote(name)}`);
    this.commitNumeric(code, cell, extra, value);
  }

  /** wasm checks type and bounds, bumps the version and stamps the time; then the caches, counters, journal and watchers. */
  private commitNumeric(code: NumericCode, cell: number, extra: Metadata | undefined, input: unknown): void {
    const table = this.table as NumericTable;
    const handle = code >>> 1;
    // The one thing watching and refs cost a write to a variable that has neither: this flag load.
    const flags = table.flags[handle] as number;
    const watched = (flags & WATCHED) !== 0;
    const oldValue = watched ? table.value(code) : undefined;
    const now = coarseNow();
    const status = table.setAt(handle, cell, now);
    if (status !== table.statusOk) throw table.rejection(code, status, input);
    if (flags === 0) table.values[handle] = undefined;
    else table.written(handle);
    if (extra !== undefined) table.setMetadata(code, mergeMetadata(table.metadata(code), extra));
    this.totalOperations++;
    this.totalUpdates++;
    if (this.journal !== undefined) this.journal.numeric(table.order(code), cell, now, extra);
    if (watched) this.watching.dispatcher.deliver([this.watching.change(code, oldValue, table.value(code), table.version(code), 'set')]);
  }

  /** @internal The error for a ref whose variable is gone. */
  staleRef(name: string, id: string): StateError {
    if (this.closed) return closedError();
    return new StateError('not_found', `Variable ${quote(name)} (${id}) was deleted`, { variable: name });
  }

  private missing(identifier: unknown): StateError {
    return this.closed ? closedError() : notFound(identifier);
  }

  /** version_conflict unless `target` is at `expected` (undefined: no condition). */
  private checkVersion(target: Target, expected: number | undefined): void {
    if (expected === undefined) return;
    const storage = this.storageOf(target);
    const actual = storage.version(target);
    if (actual !== expected) throw versionConflict(storage.name(target), expected, actual);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  /** Open, and not read-only after a failed write or fsync (`io_error`). */
  private assertWritable(): void {
    if (this.closed) throw closedError();
    if (this.journal?.failure !== undefined) throw this.journal.failure;
  }

  /** @internal Adds a validated variable (to the wasm table when it is numeric and there is one, else as a record) at the next order, or at `order`. */
  add(item: NewVariable, order = this.registry.takeOrder()): Target {
    const target = item.spec.numeric && this.table !== undefined ? this.table.add(item, order) : records.add(item, order);
    this.registry.link(target, item.name);
    this.variableCount++;
    this.epoch++;
    return target;
  }

  /** @internal A variable with everything a journal or snapshot keeps of it. */
  describe(target: Target): StoredVariable {
    const item = this.exportItem(target);
    return Object.assign(item, {
      order: this.storageOf(target).order(target),
      serial: typeof target === 'number' ? (this.table as NumericTable).serial(target) : (serialOf(item.id, item.name) as number),
    });
  }

  /**
   * A variable as exportState hands it to buildSnapshot. Built field by field, as infoOf() is:
   * spreading one into another cost ~1 µs a variable (an export of 100k went 600 → 200 ms).
   */
  private exportItem(target: Target): ExportItem {
    const storage = this.storageOf(target);
    return {
      id: storage.id(target),
      name: storage.name(target),
      spec: storage.spec(target),
      value: storage.value(target),
      constraints: storage.constraints(target),
      metadata: storage.metadata(target),
      version: storage.version(target),
      createdAt: storage.createdAt(target),
      lastUpdatedAt: storage.updatedAt(target),
    };
  }

  /** @internal Every live variable in registration order. */
  inOrder(): Target[] {
    return this.registry.inOrder((target) => this.storageOf(target).order(target));
  }

  private infoOf(target: Target): VariableInfo {
    const storage = this.storageOf(target);
    return {
      id: storage.id(target),
      name: storage.name(target),
      type: storage.spec(target).type,
      value: storage.value(target),
      constraints: storage.constraints(target),
      metadata: storage.metadata(target),
      version: storage.version(target),
      createdAt: storage.createdAt(target),
      lastUpdatedAt: storage.updatedAt(target),
    };
  }

  private counters(): StateStats & Record<string, number> {
    // An in-memory store's numeric refs count their reads themselves (RefCell.reads): add them in
    // whenever the total is read. A persisted store's refs count on totalOperations directly, which
    // the journal's clock records carry, so the journal reads the field and nothing is left to add.
    if (this.table !== undefined) this.totalOperations += this.table.takeRefReads();
    return { variableCount: this.variableCount, totalOperations: this.totalOperations, totalUpdates: this.totalUpdates };
  }

  private sessionMetadata(): Record<string, JsonValue> {
    const metadata: Record<string, JsonValue> = { backend: this.backend, createdAt: this.createdAt };
    if (this.lastImport) metadata.lastImport = this.lastImport;
    return metadata;
  }
}

/** A write whose input, as it was read, changed the store (see Store.epoch): refused, nothing applied. */
function changedWhileReading(what: string): StateError {
  return invalidArgument(
    `${what}: the store changed while the input was read (a getter or Proxy in a value or metadata registered, deleted or wrote variables); nothing was applied`,
    { rule: 'reentrancy' },
  );
}

export type { Metadata };
