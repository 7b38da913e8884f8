// The public contract. `StateProvider<'sync'>` is what LocalState implements;
// an asynchronous backend implements `StateProvider<'async'>`; code that
// accepts any backend takes `StateProvider` and awaits every result.

import type { Metadata } from './metadata.js';
import type { BatchOptions, WriteOptions } from './options.js';
import type { StateSnapshot } from './snapshot.js';
import type { VariableType, VariableValue } from './types/index.js';
import type { Watch, WatchEvent, WatcherInfo, WatchOptions } from './watch.js';

export type Mode = 'sync' | 'async';
/** `T` for a synchronous backend, `Promise<T>` for an asynchronous one, either when unknown. */
export type Result<M extends Mode, T> = [M] extends ['sync'] ? T : [M] extends ['async'] ? Promise<T> : T | Promise<T>;

export interface VariableInfo {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  readonly value: VariableValue;
  /** A copy: changing it changes nothing in the store. */
  readonly constraints: Readonly<Record<string, unknown>>;
  readonly metadata: Metadata;
  readonly version: number;
  /** Epoch milliseconds (coarse clock: ~1 ms precision). */
  readonly createdAt: number;
  readonly lastUpdatedAt: number;
}

export interface RegisterOptions {
  /** Type-specific rules, validated at registration; unknown keys are refused. */
  readonly constraints?: Readonly<Record<string, unknown>>;
  /** Stored as metadata.description. */
  readonly description?: string;
  /** Plain JSON data. */
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** Pairs for updateVariables: an object keyed by identifier, or a Map. */
export type Updates = Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>;

export interface Capabilities {
  readonly atomicUpdates: boolean;
  readonly streaming: boolean;
  readonly persistent: boolean;
  readonly distributed: boolean;
}

export interface StateStats {
  readonly variableCount: number;
  /** Every successful register, get, set and delete, and each item of a batch. */
  readonly totalOperations: number;
  /** Successful writes: sets, and each item of a successful batch. */
  readonly totalUpdates: number;
}

/** LocalState's stats: the counters plus the wasm table's figures. */
export interface WasmStateStats extends StateStats {
  /** Variables whose value lives in the wasm table (float, integer, boolean). */
  readonly tableEntries: number;
  /** Index slots of the wasm table (a power of two; at most 3/4 used). */
  readonly tableCapacity: number;
  /** Times the wasm table has been resized. */
  readonly tableRehashes: number;
  /** Bytes of wasm linear memory. */
  readonly wasmMemoryBytes: number;
}

/** A handle to one variable for hot loops: no name lookup per call. */
export interface VariableRef<T extends VariableValue = VariableValue> {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  /** Current version; `not_found` once the variable is deleted. */
  readonly version: number;
  get(): T;
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): void;
}

export interface StateProvider<M extends Mode = Mode> {
  readonly sessionId: string;
  registerVariable(name: string, type: VariableType, initialValue: unknown, options?: RegisterOptions): Result<M, string>;
  getVariable(identifier: string): Result<M, VariableValue>;
  /** With `{ ifVersion }`, writes only if the variable is at that version (else `version_conflict`). */
  setVariable(identifier: string, value: unknown, metadata?: Readonly<Record<string, unknown>>, options?: WriteOptions): Result<M, void>;
  getVariables(identifiers: readonly string[]): Result<M, Record<string, VariableValue>>;
  /** All or nothing; with `{ ifVersions }`, only if each named variable is at that version. */
  updateVariables(updates: Updates, metadata?: Readonly<Record<string, unknown>>, options?: BatchOptions): Result<M, void>;
  listVariables(): Result<M, VariableInfo[]>;
  deleteVariable(identifier: string): Result<M, void>;
  exportState(): Result<M, StateSnapshot>;
  importState(snapshot: unknown): Result<M, void>;
  capabilities(): Capabilities;
  requiresBridge(): boolean;
  stats(): Result<M, StateStats>;
  cleanup(): Result<M, void>;
  /** Optional: backends that stream changes (capabilities().streaming) implement these. */
  watchVariables?(identifiers: readonly string[], callback: (event: WatchEvent) => void, options?: WatchOptions): Result<M, Watch>;
  unwatchVariables?(watch: Watch | string): Result<M, void>;
  listWatchers?(): Result<M, WatcherInfo[]>;
}
