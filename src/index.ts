export { MAX_CACHED_READS } from './clock.js';
export {
  type AnyProvider,
  Context,
  type ContextOptions,
  ContextRef,
  MigratedEvent,
  type MigrationResult,
  type NeededCapability,
  type ProviderFactory,
} from './context.js';
export { type BatchItemError, ERROR_CODES, StateError, type StateErrorCode, type StateErrorDetails } from './errors.js';
export { JsLocalState } from './js-local-state.js';
export { LocalState } from './local-state.js';
export type { JsonValue, Metadata } from './metadata.js';
export type { BatchOptions, FsyncMode, InitOptions, PersistOptions, WriteOptions } from './options.js';
export type {
  Capabilities,
  Mode,
  RegisterOptions,
  Result,
  StateProvider,
  StateStats,
  Updates,
  VariableInfo,
  VariableRef,
  WasmStateStats,
} from './provider.js';
export type { SnapshotVariable, StateSnapshot } from './snapshot.js';
export { SNAPSHOT_FORMAT, SNAPSHOT_FORMAT_VERSION } from './snapshot.js';
export type { PersistenceInfo, RecoveryReport, Repair } from './store/journal.js';
export { type BackendName, Store } from './store/store.js';
export {
  type EmbeddingConstraints,
  type NestedNumbers,
  type NumericConstraints,
  type StringConstraints,
  type TensorConstraints,
  type TensorValue,
  VARIABLE_TYPES,
  type VariableType,
  type VariableValue,
} from './types/index.js';
export { CORE_WASM_URL, type CoreExports } from './wasm.js';
export { MAX_DELIVERY_ROUNDS, type Watch, type WatchEvent, type WatchEventKind, type WatcherInfo, type WatchOptions } from './watch.js';
