// What a store tells its journal, at each commit point: after a write has
// succeeded in memory, never before. src/persist/ implements it; the store
// never touches a file. A store without `persist` has no journal, and its
// write paths pay one `journal !== undefined` check.

import type { StateError } from '../errors.js';
import type { Metadata } from '../metadata.js';
import type { ExportItem } from '../snapshot.js';
import type { Target } from '../storage/storage.js';
import type { Variable } from '../storage/variable.js';
import type { VariableValue } from '../types/index.js';

/** A variable as the store holds it, with what identifies it for the store's whole life (its order). */
export interface StoredVariable extends ExportItem {
  /** Registration order: unique per insertion and never reused, so it names one variable for the store's life. */
  readonly order: number;
  readonly serial: number;
}

/** Figures about a persisted store (see `Store.persistence()`). */
export interface PersistenceInfo {
  readonly path: string;
  readonly fsync: 'always' | 'everysec' | 'no';
  /** Set once a write or fsync failed: the store is read-only. */
  readonly failure: string | undefined;
  /** Live journal segments and their bytes (headers included). */
  readonly segments: number;
  readonly journalBytes: number;
  /** Bytes of the live snapshot (0: none yet). */
  readonly snapshotBytes: number;
  /** Records this store has journaled since it opened (a batch item is one; clock readings aside). */
  readonly records: number;
  /** Journal bytes this store has written since it opened. */
  readonly bytesWritten: number;
  readonly frames: number;
  readonly syncs: number;
  readonly compactions: number;
  readonly compacting: boolean;
  readonly lastCompaction: { readonly ms: number; readonly variables: number; readonly snapshotBytes: number } | undefined;
  readonly compactionError: string | undefined;
  readonly recovery: RecoveryReport;
}

/** What opening the directory found and did. */
export interface RecoveryReport {
  readonly ms: number;
  readonly snapshotVariables: number;
  readonly records: number;
  readonly frames: number;
  readonly segments: number;
  /** Bytes of a torn tail cut off the last segment (0: none). */
  readonly tornBytes: number;
  /** What `repair` moved aside and dropped: empty unless it did. */
  readonly repairs: readonly Repair[];
}

export interface Repair {
  readonly file: string;
  readonly offset: number;
  readonly movedTo: string;
  readonly droppedBytes: number;
  readonly reason: string;
}

/** @internal The commit points. Each is called after the write has changed the store, counters included. */
export interface Journal {
  /** Set once a write or fsync failed: the store is read-only, and every write throws this (`io_error`). */
  readonly failure: StateError | undefined;
  /** A numeric write by name or through a ref: `cell` is the f64 the table took; `extra`, metadata it merged. */
  numeric(order: number, cell: number, now: number, extra?: Metadata): void;
  /** A write to a record: its value now, and metadata it merged. */
  record(variable: Variable, now: number, extra?: Metadata): void;
  /** A committed batch: each item's target and what it stored (a record's value; for a numeric item, the f64 its entry took). */
  batch(
    targets: readonly (Target | undefined)[],
    stored: readonly (VariableValue | undefined)[],
    extra: Metadata | undefined,
    now: number,
  ): void;
  registered(variable: StoredVariable): void;
  deleted(order: number): void;
  /** `nextSerial`: the exporter's, so that a recovered store never generates an id the exporter had. */
  imported(sessionId: string, at: number, nextSerial: number, variables: readonly StoredVariable[]): void;
  /** Resolves once every write made so far is on disk. */
  flush(): Promise<void>;
  /** Flushes, syncs and closes the files; throws `io_error` (after closing) if the last flush failed. */
  close(): void;
  info(): PersistenceInfo;
}
