// The store shared by both backends: name index, ids, registration, batches,
// export/import, refs. Backends differ only in where float, integer and
// boolean values live: with a wasm Core (LocalState) they sit in the wasm
// table, where every write is validated (type, min/max) and versioned, and
// reads go straight to linear memory through a Float64Array view; without one
// (JsLocalState) they sit on the JavaScript record like every other value.

import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { coarseNow } from './clock.js';
import { type BatchItemError, describeValue, quote, StateError } from './errors.js';
import { copyMetadata, initialMetadata, type JsonValue, type Metadata, mergeMetadata, setOwn } from './metadata.js';
import type { Capabilities, RegisterOptions, StateProvider, StateStats, Updates, VariableInfo, VariableRef } from './provider.js';
import { buildSnapshot, type ExportItem, parseSnapshot, type StateSnapshot } from './snapshot.js';
import {
  constraintViolation,
  invalidValue,
  parseConstraints,
  specOf,
  type TypeSpec,
  type VariableType,
  type VariableValue,
} from './types/index.js';
import type { Bounds } from './types/numeric.js';
import { toCell } from './types/numeric.js';
import { Cell, DEAD_HANDLE, NO_HANDLE, Variable } from './variable.js';
import type { Core, CoreExports } from './wasm.js';

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

const registerOptionsSchema = z.strictObject({
  constraints: z.unknown().optional(),
  description: z.unknown().optional(),
  metadata: z.unknown().optional(),
});

const CAPABILITIES: Capabilities = Object.freeze({
  atomicUpdates: true,
  streaming: false,
  persistent: false,
  distributed: false,
});

export function invalidArgument(message: string, details: { variable?: string; rule?: string } = {}): StateError {
  return new StateError('invalid_argument', message, details);
}

function zodMessage(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'malformed';
  return issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message;
}

/** One validated write of a batch, waiting to be applied. */
interface Staged {
  readonly variable: Variable;
  /** The f64 for wasm cells; the stored value for JavaScript-held ones. */
  readonly cell: number;
  readonly stored: VariableValue;
}

export abstract class Store implements StateProvider<'sync'> {
  readonly sessionId: string;
  /** @internal The wasm table for numeric values, or undefined when they live in JavaScript. */
  readonly core: Core | undefined;
  protected readonly backend: BackendName;
  /** @internal Every id and every name → its variable; an id wins over an equal name. */
  readonly index = new Map<string, Variable>();
  /** Names hidden because another variable's id is the same string (rare). */
  private readonly shadowed = new Map<string, Variable>();
  /** @internal Counted here, not in wasm: a field increment costs less than a call. */
  totalOperations = 0;
  private totalUpdates = 0;
  private variableCount = 0;
  private nextSerial = 1;
  private nextKey = 0;
  private closed = false;
  private readonly createdAt = coarseNow();
  private lastImport: Readonly<Record<string, JsonValue>> | undefined;
  // One fixed call site per hot export (V8 inlines the JS-to-wasm wrapper there).
  private readonly setAt: CoreExports['ls_set_at'];
  private readonly checkAt: CoreExports['ls_check_at'];
  private readonly statusOk: number;
  private readonly typeTags: Readonly<Record<string, number>>;

  protected constructor(sessionId: string | undefined, core: Core | undefined) {
    this.core = core;
    this.backend = core === undefined ? 'js' : 'wasm';
    this.sessionId = sessionId ?? `session_${randomUUID()}`;
    // Without a table these are never called: every variable is JavaScript-held.
    this.setAt = core?.exports.ls_set_at ?? unreachableCall;
    this.checkAt = core?.exports.ls_check_at ?? unreachableCall;
    this.statusOk = core?.constants.STATUS_OK ?? 0;
    this.typeTags = core
      ? { float: core.constants.TYPE_FLOAT, integer: core.constants.TYPE_INTEGER, boolean: core.constants.TYPE_BOOLEAN }
      : {};
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
    const value = spec.coerce(initialValue);
    if (value === undefined) throw invalidValue(name, spec, initialValue);
    const violation = spec.violation(value, rules);
    if (violation !== undefined) throw constraintViolation(name, violation, initialValue);
    const now = coarseNow();
    const id = this.nextId(name);
    this.add(id, name, spec, constraints, rules, metadata, value, 0, now, now);
    this.totalOperations++;
    return id;
  }

  getVariable(identifier: string): VariableValue {
    const variable = this.index.get(identifier);
    if (variable === undefined) throw this.missing(identifier);
    this.totalOperations++;
    return this.valueOf(variable);
  }

  setVariable(identifier: string, value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    const variable = this.index.get(identifier);
    if (variable === undefined) throw this.missing(identifier);
    this.write(variable, value, metadata);
  }

  getVariables(identifiers: readonly string[]): Record<string, VariableValue> {
    this.assertOpen();
    if (!Array.isArray(identifiers)) throw invalidArgument('getVariables: identifiers must be an array of strings');
    const result: Record<string, VariableValue> = {};
    for (const identifier of identifiers) {
      const variable = this.index.get(identifier);
      if (variable !== undefined) setOwn(result, identifier, this.valueOf(variable));
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
    let failures = 0;
    for (const [identifier, value] of pairs) {
      const variable = this.index.get(identifier);
      try {
        if (variable === undefined) throw this.missing(identifier);
        staged.push(this.stage(variable, value));
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
    for (const item of staged) this.apply(item, now, extra);
    this.totalOperations += staged.length;
    this.totalUpdates += staged.length;
  }

  listVariables(): VariableInfo[] {
    this.assertOpen();
    const result: VariableInfo[] = [];
    for (const variable of this.variablesInOrder()) result.push(this.infoOf(variable));
    return result;
  }

  deleteVariable(identifier: string): void {
    const variable = this.index.get(identifier);
    if (variable === undefined) throw this.missing(identifier);
    this.unlink(variable);
    if (variable.cell !== Cell.Js) (this.core as Core).exports.ls_delete(variable.key);
    variable.handle = DEAD_HANDLE;
    this.variableCount--;
    this.totalOperations++;
  }

  /** A handle for hot loops: resolves once, then reads and writes without a name lookup. */
  ref<T extends VariableValue = VariableValue>(identifier: string): VariableRef<T> {
    const variable = this.index.get(identifier);
    if (variable === undefined) throw this.missing(identifier);
    if (variable.cell === Cell.Number) return new NumberRef(this, variable) as unknown as VariableRef<T>;
    if (variable.cell === Cell.Boolean) return new BooleanRef(this, variable) as unknown as VariableRef<T>;
    return new ValueRef(this, variable) as unknown as VariableRef<T>;
  }

  exportState(): StateSnapshot {
    this.assertOpen();
    const items: ExportItem[] = [];
    for (const variable of this.variablesInOrder()) {
      items.push({
        id: variable.id,
        name: variable.name,
        spec: variable.spec,
        value: this.valueOf(variable),
        constraints: variable.constraints,
        metadata: variable.metadata,
        version: this.versionOf(variable),
        createdAt: variable.createdAt,
        lastUpdatedAt: this.updatedAtOf(variable),
      });
    }
    return buildSnapshot(this.sessionId, items, this.sessionMetadata(), this.counters());
  }

  /** Validates the whole payload, then adds every variable; on any failure nothing is added. */
  importState(snapshot: unknown): void {
    this.assertOpen();
    const incoming = parseSnapshot(snapshot);
    for (const item of incoming) {
      for (const taken of [item.name, item.id]) {
        if (this.index.has(taken) || this.shadowed.has(taken)) {
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
    if (this.core !== undefined) {
      const numeric = incoming.reduce((n, item) => n + (item.spec.numeric ? 1 : 0), 0);
      // Reserve first, so no insert below can fail halfway for lack of memory.
      const status = this.core.exports.ls_reserve(numeric);
      this.core.refresh();
      if (status !== this.statusOk) throw this.statusError(status, `importState of ${incoming.length} variables`);
    }
    for (const item of incoming) {
      this.add(
        item.id,
        item.name,
        item.spec,
        item.constraints,
        item.rules,
        item.metadata,
        item.value,
        item.version,
        item.createdAt,
        item.lastUpdatedAt,
      );
      if (item.serial >= this.nextSerial) this.nextSerial = item.serial + 1;
    }
    this.lastImport = { sessionId: (snapshot as StateSnapshot).sessionId, variables: incoming.length, at: coarseNow() };
  }

  capabilities(): Capabilities {
    return CAPABILITIES;
  }

  requiresBridge(): boolean {
    return false;
  }

  stats(): StateStats {
    this.assertOpen();
    return this.counters();
  }

  private counters(): StateStats & Record<string, number> {
    return { variableCount: this.variableCount, totalOperations: this.totalOperations, totalUpdates: this.totalUpdates };
  }

  /** Ends the store: every later call (refs included) throws `closed`. Idempotent. */
  cleanup(): void {
    if (this.closed) return;
    this.closed = true;
    for (const variable of this.index.values()) variable.handle = DEAD_HANDLE;
    for (const variable of this.shadowed.values()) variable.handle = DEAD_HANDLE;
    this.index.clear();
    this.shadowed.clear();
  }

  // ─── internals ───────────────────────────────────────────────────────────

  /** @internal */
  valueOf(variable: Variable): VariableValue {
    if (variable.cell === Cell.Js) return variable.value;
    const core = this.core as Core;
    const cell = core.f64[core.entriesBase64 + variable.handle * core.stride + core.valueOffset] as number;
    return variable.cell === Cell.Number ? cell : cell === 1;
  }

  /** @internal */
  versionOf(variable: Variable): number {
    if (variable.cell === Cell.Js) return variable.version;
    const core = this.core as Core;
    return core.f64[core.entriesBase64 + variable.handle * core.stride + core.versionOffset] as number;
  }

  private updatedAtOf(variable: Variable): number {
    if (variable.cell === Cell.Js) return variable.lastUpdatedAt;
    const core = this.core as Core;
    return core.f64[core.entriesBase64 + variable.handle * core.stride + core.updatedAtOffset] as number;
  }

  /** @internal One validated, versioned write; a failure changes nothing. */
  write(variable: Variable, value: unknown, metadata: unknown): void {
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, `Variable ${quote(variable.name)}`);
    if (variable.cell !== Cell.Js) {
      const cell = typeof value === 'number' ? value : this.cellOf(variable, value);
      const status = this.setAt(variable.handle, cell, coarseNow());
      if (status !== this.statusOk) throw this.rejection(variable, status, value);
    } else {
      const stored = this.storedOf(variable, value);
      variable.value = stored;
      variable.version++;
      variable.lastUpdatedAt = coarseNow();
    }
    if (extra !== undefined) variable.metadata = mergeMetadata(variable.metadata, extra);
    this.totalOperations++;
    this.totalUpdates++;
  }

  /** Validates a batch item without changing anything. */
  private stage(variable: Variable, value: unknown): Staged {
    if (variable.cell !== Cell.Js) {
      const cell = typeof value === 'number' ? value : this.cellOf(variable, value);
      const status = this.checkAt(variable.handle, cell);
      if (status !== this.statusOk) throw this.rejection(variable, status, value);
      return { variable, cell, stored: cell };
    }
    return { variable, cell: 0, stored: this.storedOf(variable, value) };
  }

  private apply(item: Staged, now: number, extra: Metadata | undefined): void {
    const variable = item.variable;
    if (variable.cell !== Cell.Js) {
      const status = this.setAt(variable.handle, item.cell, now);
      // Staging checked this exact write; a failure here is a bug, not bad input.
      if (status !== this.statusOk)
        throw new Error(`localstate-wasm: staged write to ${quote(variable.name)} failed with status ${status}`);
    } else {
      variable.value = item.stored;
      variable.version++;
      variable.lastUpdatedAt = now;
    }
    if (extra !== undefined) variable.metadata = mergeMetadata(variable.metadata, extra);
  }

  /** The f64 for a non-number input to a wasm cell ('NaN', true, 'false', …), or `invalid_value`. */
  private cellOf(variable: Variable, value: unknown): number {
    const coerced = variable.spec.coerce(value);
    if (coerced === undefined) throw invalidValue(variable.name, variable.spec, value);
    return toCell(coerced);
  }

  /** The stored form of a JavaScript-held value, checked against type, constraints and the version limit. */
  private storedOf(variable: Variable, value: unknown): VariableValue {
    const stored = variable.spec.coerce(value);
    if (stored === undefined) throw invalidValue(variable.name, variable.spec, value);
    const violation = variable.spec.violation(stored, variable.rules);
    if (violation !== undefined) throw constraintViolation(variable.name, violation, value);
    if (variable.version >= Number.MAX_SAFE_INTEGER) throw versionLimit(variable.name, value);
    return stored;
  }

  /** Turns a wasm status for a write to `variable` into the error the user sees. */
  private rejection(variable: Variable, status: number, input: unknown): StateError {
    const { STATUS_INVALID_VALUE, STATUS_BELOW_MIN, STATUS_ABOVE_MAX, STATUS_VERSION_LIMIT } = (this.core as Core).constants;
    if (status === STATUS_INVALID_VALUE) return invalidValue(variable.name, variable.spec, input);
    if (status === STATUS_VERSION_LIMIT) return versionLimit(variable.name, input);
    if (status === STATUS_BELOW_MIN || status === STATUS_ABOVE_MAX) {
      const bounds = (variable.rules as Bounds | undefined) ?? { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY };
      const violation =
        status === STATUS_BELOW_MIN ? { rule: 'min', expected: `>= ${bounds.min}` } : { rule: 'max', expected: `<= ${bounds.max}` };
      return constraintViolation(variable.name, violation, input);
    }
    return this.statusError(status, `write to ${quote(variable.name)}`);
  }

  private statusError(status: number, what: string): StateError {
    const c = (this.core as Core).constants;
    if (status === c.STATUS_OUT_OF_MEMORY) {
      return new StateError('out_of_memory', `${what}: the wasm table cannot grow within maxMemoryBytes`, { rule: 'maxMemoryBytes' });
    }
    if (status === c.STATUS_NOT_FOUND) return new StateError('not_found', `${what}: no such entry in the wasm table`);
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
  staleRef(variable: Variable): StateError {
    if (this.closed) return closedError();
    return new StateError('not_found', `Variable ${quote(variable.name)} (${variable.id}) was deleted`, { variable: variable.name });
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private nameTaken(name: string): boolean {
    const holder = this.index.get(name);
    return (holder !== undefined && holder.name === name) || this.shadowed.has(name);
  }

  /** The next `var_<name>_<n>`; skips any string already used as an id or a name. */
  private nextId(name: string): string {
    for (;;) {
      const id = `var_${name}_${this.nextSerial++}`;
      if (!this.index.has(id) && !this.shadowed.has(id)) return id;
    }
  }

  /** Creates the record (and the wasm entry for numeric types) and indexes it. */
  private add(
    id: string,
    name: string,
    spec: TypeSpec,
    constraints: unknown,
    rules: unknown,
    metadata: Metadata,
    value: VariableValue,
    version: number,
    createdAt: number,
    updatedAt: number,
  ): void {
    let variable: Variable;
    if (spec.numeric && this.core !== undefined) {
      const bounds = (rules as Bounds | undefined) ?? { min: Number.NEGATIVE_INFINITY, max: Number.POSITIVE_INFINITY };
      const cell = spec.type === 'boolean' ? Cell.Boolean : Cell.Number;
      const [handle, key] = this.insertCell(this.typeTags[spec.type] as number, toCell(value), bounds, version, updatedAt, name);
      variable = new Variable(id, name, spec, constraints, rules, metadata, createdAt, cell, handle, key, 0, 0, 0);
    } else {
      variable = new Variable(id, name, spec, constraints, rules, metadata, createdAt, Cell.Js, NO_HANDLE, 0, value, version, updatedAt);
    }
    this.link(variable);
    this.variableCount++;
  }

  private insertCell(tag: number, cell: number, bounds: Bounds, version: number, updatedAt: number, name: string): [number, number] {
    const core = this.core as Core;
    const insert = core.exports.ls_insert;
    const alreadyExists = -core.constants.STATUS_ALREADY_EXISTS;
    for (;;) {
      const key = this.nextKey;
      // Keys are u32 and wrap; a key still in use is skipped below.
      this.nextKey = (key + 1) >>> 0;
      const result = insert(key, tag, cell, bounds.min, bounds.max, version, updatedAt);
      core.refresh();
      if (result >= 0) return [result, key];
      if (result !== alreadyExists) {
        const status = -result;
        const { STATUS_INVALID_VALUE, STATUS_BELOW_MIN, STATUS_ABOVE_MAX } = core.constants;
        if (status === STATUS_INVALID_VALUE || status === STATUS_BELOW_MIN || status === STATUS_ABOVE_MAX) {
          throw new Error(`localstate-wasm: wasm refused ${quote(name)} that JavaScript validated (status ${status})`);
        }
        throw this.statusError(status, `registerVariable ${quote(name)}`);
      }
    }
  }

  /** Indexes id and name. An id wins over an equal name; the name is kept aside until the id goes. */
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
  }

  /** Live variables in registration order: the id keys of the index, which is insertion-ordered. */
  private *variablesInOrder(): IterableIterator<Variable> {
    for (const [key, variable] of this.index) if (key === variable.id) yield variable;
  }

  private infoOf(variable: Variable): VariableInfo {
    return {
      id: variable.id,
      name: variable.name,
      type: variable.spec.type,
      value: this.valueOf(variable),
      constraints: variable.spec.copyConstraints(variable.constraints) as Record<string, unknown>,
      metadata: variable.metadata,
      version: this.versionOf(variable),
      createdAt: variable.createdAt,
      lastUpdatedAt: this.updatedAtOf(variable),
    };
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

function unreachableCall(): never {
  throw new Error('localstate-wasm: a wasm table call on a store without a table');
}

function closedError(): StateError {
  return new StateError('closed', 'This LocalState was cleaned up; create a new one with LocalState.init()');
}

function toPairs(updates: Updates): Array<[string, unknown]> {
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

/** What every ref shares; subclasses differ only in how `get` reads. */
abstract class RefBase<T extends VariableValue> implements VariableRef<T> {
  constructor(
    protected readonly store: Store,
    protected readonly variable: Variable,
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
    if (!this.variable.live) throw this.store.staleRef(this.variable);
    return this.store.versionOf(this.variable);
  }
  abstract get(): T;
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void {
    if (!this.variable.live) throw this.store.staleRef(this.variable);
    this.store.write(this.variable, value, metadata);
  }
}

class NumberRef extends RefBase<number> {
  get(): number {
    const { variable, store } = this;
    if (variable.handle < 0) throw store.staleRef(variable);
    store.totalOperations++;
    const core = store.core as Core;
    return core.f64[core.entriesBase64 + variable.handle * core.stride + core.valueOffset] as number;
  }
}

class BooleanRef extends RefBase<boolean> {
  get(): boolean {
    const { variable, store } = this;
    if (variable.handle < 0) throw store.staleRef(variable);
    store.totalOperations++;
    const core = store.core as Core;
    return core.f64[core.entriesBase64 + variable.handle * core.stride + core.valueOffset] === 1;
  }
}

class ValueRef extends RefBase<VariableValue> {
  get(): VariableValue {
    const { variable, store } = this;
    if (!variable.live) throw store.staleRef(variable);
    store.totalOperations++;
    return variable.value;
  }
}
