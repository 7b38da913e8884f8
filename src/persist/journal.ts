// The journal of a persisted store: the store's commit points append records
// to a buffer in memory (a numeric write is 13 bytes and a few stores, no
// call into the file system), and the buffer is handed to the OS as one
// checksummed frame:
//   - `always`:   after every operation, then fdatasync, before the call returns;
//   - `everysec`: at the end of each synchronous stretch (a microtask, as the
//                 coarse clock expires its reading), or as soon as 4,096
//                 records or 64 KiB are waiting; an fdatasync in the thread
//                 pool at least once a second;
//   - `no`:       as `everysec`, never synced but by flush() and cleanup().
// A frame holds whole operations, so a batch, an import, a register or a
// delete is on disk entirely or not at all.
//
// A failed write or fsync is never retried: the store turns read-only (every
// later write throws `io_error`), and what was acknowledged before stays as it
// was on disk (a half-written frame is a torn tail the next open cuts off).
// Postgres and Redis treat a failed fsync the same way.

import { join } from 'node:path';
import { coarseNow } from '../clock.js';
import { StateError } from '../errors.js';
import type { Metadata } from '../metadata.js';
import type { NumericTable } from '../storage/numeric-table.js';
import type { Target } from '../storage/storage.js';
import type { Variable } from '../storage/variable.js';
import type { Journal, PersistenceInfo, RecoveryReport, StoredVariable } from '../store/journal.js';
import type { Store } from '../store/store.js';
import type { VariableValue } from '../types/index.js';
import { toCell } from '../types/numeric.js';
import { ByteWriter, encodeVariable } from './codec.js';
import { type CompactionJob, Compactor } from './compactor.js';
import {
  FILE_HEADER_SIZE,
  FRAME_HEADER_SIZE,
  JOURNAL_MAGIC,
  RECORD,
  SET_SIZE,
  SHORT_ORDER_LIMIT,
  segmentFile,
  TIME_SIZE,
} from './format.js';
import { fileHeader, sealFrame } from './frames.js';
import type { PersistFs } from './fs.js';
import { ioError, syncDirectory, writeAll } from './io.js';
import { type Lock, releaseLock } from './lock.js';
import type { Manifest } from './manifest.js';
import type { CompactionOptions, FsyncMode } from './options.js';
import type { SegmentState } from './recovery.js';

/**
 * Records waiting before they are handed to the OS even within one synchronous stretch (everysec, no).
 * A write(2) here costs ~10-13 µs whatever its size up to tens of KiB (bench notes in the README):
 * 4,096 numeric records (~53 KB) pay ~4 ns each for it where 1,024 paid ~14 ns.
 */
export const FLUSH_RECORDS = 4096;
/** Bytes waiting before the same happens. */
export const FLUSH_BYTES = 64 * 1024;
/** Past FLUSH_BYTES, room for a stretch of numeric writes with a clock reading each, which numeric() does not check for. */
const BUFFER_BYTES = FLUSH_BYTES + FLUSH_RECORDS * (TIME_SIZE + 17) + 4096;
const SYNC_INTERVAL_MS = 1000;
const SET_WIDE_SIZE = 17;

export interface JournalSetup {
  readonly fs: PersistFs;
  readonly dir: string;
  readonly lock: Lock;
  readonly manifest: Manifest;
  readonly fsync: FsyncMode;
  readonly compaction: CompactionOptions | false;
  /** The live segments; the last one takes the appends (its file is open as `fd`). */
  readonly segments: readonly SegmentState[];
  readonly fd: number;
  readonly snapshotBytes: number;
  readonly backend: 'wasm' | 'js';
  readonly recovery: RecoveryReport;
}

/** Journals still open, handed to the OS when the process exits without cleanup() (process.exit() mid-stretch). */
const openJournals = new Set<FileJournal>();
let exitHookInstalled = false;

export class FileJournal implements Journal {
  failure: StateError | undefined = undefined;
  private readonly fs: PersistFs;
  private readonly dir: string;
  private readonly mode: FsyncMode;
  private readonly out = new ByteWriter(BUFFER_BYTES);
  /** Records waiting in `out` since the last hand-off; the bound for `always` is one operation. */
  private pending = 0;
  private readonly flushEvery: number;
  /** The clock reading the last TIME record carried (NaN: none in this segment yet). */
  private lastTime = Number.NaN;
  /** totalOperations when the store opened: a close journals the count when it changed. */
  private readonly operationsAtOpen: number;
  private fd: number;
  private segment: number;
  private frameIndex: number;
  /** Where the next frame goes in the current segment. */
  private segmentEnd: number;
  /** Live segments → bytes (the current one included). */
  private readonly segmentBytes = new Map<number, number>();
  private firstSegment: number;
  private snapshot: number;
  private snapshotBytes: number;
  /** Hand-offs so far, and how many of them the last completed sync covers. */
  private written = 0;
  private synced = 0;
  /** A segment was created since the directory was last synced. */
  private dirDirty = false;
  /** Rotated segments whose data still awaits an fdatasync, then a close. */
  private retired: number[] = [];
  private syncing: Promise<void> | undefined = undefined;
  private syncsInFlight = 0;
  /** When the last fdatasync started (performance.now()). */
  private lastSyncStart = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly compactor: Compactor | undefined;
  private readonly compaction: CompactionOptions | false;
  /** No compaction before the journal reaches this (raised after a failed one). */
  private compactionFloor = 0;
  private readonly manifest: Manifest;
  private readonly lock: Lock;
  private readonly backend: 'wasm' | 'js';
  private readonly recovery: RecoveryReport;
  private readonly table: NumericTable | undefined;
  // Figures for persistence().
  private records = 0;
  private bytesWritten = 0;
  private frames = 0;
  private syncs = 0;
  private compactions = 0;
  private lastCompaction: PersistenceInfo['lastCompaction'] = undefined;
  private compactionError: string | undefined = undefined;

  constructor(
    private readonly store: Store,
    setup: JournalSetup,
  ) {
    this.fs = setup.fs;
    this.dir = setup.dir;
    this.mode = setup.fsync;
    this.flushEvery = setup.fsync === 'always' ? 1 : FLUSH_RECORDS;
    this.manifest = setup.manifest;
    this.lock = setup.lock;
    this.backend = setup.backend;
    this.recovery = setup.recovery;
    this.table = store.table;
    this.fd = setup.fd;
    for (const segment of setup.segments) this.segmentBytes.set(segment.number, segment.bytes);
    const last = setup.segments[setup.segments.length - 1] as SegmentState;
    this.segment = last.number;
    this.frameIndex = last.frames;
    this.segmentEnd = last.bytes;
    this.firstSegment = setup.manifest.firstSegment;
    this.snapshot = setup.manifest.snapshot;
    this.snapshotBytes = setup.snapshotBytes;
    this.compaction = setup.compaction;
    this.compactor = setup.compaction === false ? undefined : new Compactor();
    this.operationsAtOpen = store.totalOperations;
    this.out.at = FRAME_HEADER_SIZE;
    if (setup.fsync === 'everysec') {
      this.timer = setInterval(() => this.backgroundSync(), SYNC_INTERVAL_MS);
      this.timer.unref();
    }
    openJournals.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.on('exit', () => {
        for (const journal of openJournals) journal.atExit();
      });
    }
  }

  // ─── commit points (the store calls these after a write succeeded) ──────────

  /** The hot one: a clock check, three stores into the buffer, a count. Small, so that V8 inlines it into the write paths. */
  numeric(order: number, cell: number, now: number, extra?: Metadata): void {
    if (now !== this.lastTime) this.time(now, 1);
    if (order >= SHORT_ORDER_LIMIT || extra !== undefined) {
      this.writeSet(order, cell);
      if (extra !== undefined) this.writeMetadata(order, extra);
      this.ended(1);
      return;
    }
    const out = this.out;
    const view = out.view;
    const at = out.at;
    // No room check: every operation starts below FLUSH_BYTES, and the buffer has room past it for
    // FLUSH_RECORDS numeric writes with their clock readings (see BUFFER_BYTES).
    view.setUint8(at, RECORD.SET);
    view.setUint32(at + 1, order, true);
    view.setFloat64(at + 5, cell, true);
    out.at = at + SET_SIZE;
    const pending = ++this.pending;
    if (pending >= this.flushEvery) this.handOff();
    // The first record of a stretch queues its hand-off (after a mid-stretch one too: harmless).
    else if (pending === 1) queueMicrotask(this.flushTask);
  }

  record(variable: Variable, now: number, extra?: Metadata): void {
    // JsLocalState keeps float, integer and boolean variables as records: they journal as numeric writes.
    if (variable.spec.numeric) {
      this.numeric(variable.order, toCell(variable.value), now, extra);
      return;
    }
    if (now !== this.lastTime) this.time(now, 1);
    this.writeValue(variable, variable.value);
    if (extra !== undefined) this.writeMetadata(variable.order, extra);
    this.ended(1);
  }

  batch(
    targets: readonly (Target | undefined)[],
    stored: readonly (VariableValue | undefined)[],
    extra: Metadata | undefined,
    now: number,
  ): void {
    const count = targets.length;
    if (count === 0) return; // a batch of nothing (read guards only) changes nothing
    if (now !== this.lastTime) this.time(now, count);
    const out = this.out;
    if (extra !== undefined) {
      out.u8(RECORD.BATCH_META);
      out.u32(count);
      out.json(extra);
    }
    for (let position = 0; position < count; position++) {
      const target = targets[position] as Target;
      if (typeof target === 'number') {
        const table = this.table as NumericTable;
        this.writeSet(table.order(target), stored[position] as number);
      } else {
        this.writeValue(target, stored[position] as VariableValue);
      }
    }
    this.ended(count);
  }

  registered(variable: StoredVariable): void {
    if (variable.createdAt !== this.lastTime) this.time(variable.createdAt, 1);
    this.out.u8(RECORD.REGISTER);
    encodeVariable(this.out, variable);
    this.ended(1);
  }

  deleted(order: number): void {
    this.out.u8(RECORD.DELETE);
    this.out.f64(order);
    this.ended(1);
  }

  imported(sessionId: string, at: number, nextSerial: number, variables: readonly StoredVariable[]): void {
    if (at !== this.lastTime) this.time(at, 0);
    const out = this.out;
    out.u8(RECORD.IMPORT);
    out.u32(variables.length);
    out.f64(at);
    out.f64(nextSerial);
    out.utf16(sessionId);
    for (const variable of variables) encodeVariable(out, variable);
    this.ended(1);
  }

  // ─── hand-off, sync, close ──────────────────────────────────────────────────

  async flush(): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    this.handOff();
    await this.sync();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    openJournals.delete(this);
    if (this.timer !== undefined) clearInterval(this.timer);
    this.compactor?.stop();
    let error = this.failure;
    if (error === undefined) {
      try {
        // Reads count as operations too, and only clock readings carry the count: a clean close ends with one.
        if (this.store.totalOperations !== this.operationsAtOpen || this.frames > 0 || this.pending > 0) {
          this.time(Number.isNaN(this.lastTime) ? coarseNow() : this.lastTime, 0);
        }
        this.handOff();
        // Nothing new since the last sync (a store opened and closed, say): no fsync to wait for.
        if (this.synced < this.written || this.retired.length > 0) {
          for (const fd of [...this.retired, this.fd]) this.fs.fdatasyncSync(fd);
          this.synced = this.written;
        }
        if (this.dirDirty) syncDirectory(this.fs, this.dir);
      } catch (caught) {
        error = this.failure ?? this.fail(ioError(this.currentPath(), 'sync', caught));
      }
    }
    // A sync still running in the thread pool closes its files when it ends.
    if (this.syncsInFlight === 0) this.closeFiles();
    releaseLock(this.fs, this.lock);
    if (error !== undefined) throw error;
  }

  info(): PersistenceInfo {
    let journalBytes = 0;
    for (const bytes of this.segmentBytes.values()) journalBytes += bytes;
    return {
      path: this.dir,
      fsync: this.mode,
      failure: this.failure?.message,
      segments: this.segmentBytes.size,
      journalBytes,
      snapshotBytes: this.snapshotBytes,
      records: this.records + this.pending,
      bytesWritten: this.bytesWritten,
      frames: this.frames,
      syncs: this.syncs,
      compactions: this.compactions,
      compacting: this.compactor?.running ?? false,
      lastCompaction: this.lastCompaction,
      compactionError: this.compactionError,
      recovery: this.recovery,
    };
  }

  /** @internal Starts a compaction now (tests and benchmarks), whatever the journal's size. */
  compactNow(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    this.handOff();
    return this.startCompaction();
  }

  // ─── internals ─────────────────────────────────────────────────────────────

  /** A TIME record: the clock reading for the writes after it, and the operation count before the one being journaled (`ops`). */
  private time(now: number, ops: number): void {
    this.lastTime = now;
    const out = this.out;
    out.reserve(TIME_SIZE);
    const at = out.at;
    out.view.setUint8(at, RECORD.TIME);
    out.view.setFloat64(at + 1, now, true);
    out.view.setFloat64(at + 9, this.store.totalOperations - ops, true);
    out.at = at + TIME_SIZE;
  }

  private writeSet(order: number, cell: number): void {
    const out = this.out;
    out.reserve(SET_WIDE_SIZE);
    if (order < SHORT_ORDER_LIMIT) {
      out.view.setUint8(out.at, RECORD.SET);
      out.view.setUint32(out.at + 1, order, true);
      out.view.setFloat64(out.at + 5, cell, true);
      out.at += SET_SIZE;
    } else {
      out.view.setUint8(out.at, RECORD.SET_WIDE);
      out.view.setFloat64(out.at + 1, order, true);
      out.view.setFloat64(out.at + 9, cell, true);
      out.at += SET_WIDE_SIZE;
    }
  }

  /** A record's new value: numeric types (JsLocalState keeps them as records) as SET, the others in the export encoding. */
  private writeValue(variable: Variable, value: VariableValue): void {
    if (variable.spec.numeric) {
      this.writeSet(variable.order, toCell(value));
      return;
    }
    const out = this.out;
    out.u8(RECORD.SET_RECORD);
    out.f64(variable.order);
    out.json(variable.spec.encode(value));
  }

  private writeMetadata(order: number, extra: Metadata): void {
    const out = this.out;
    out.u8(RECORD.METADATA);
    out.f64(order);
    out.json(extra);
  }

  /**
   * The end of one operation of `records` records: hand off now, or by the end of the stretch. Handing
   * off at FLUSH_BYTES keeps every operation starting below it, which numeric() relies on.
   */
  private ended(records: number): void {
    const before = this.pending;
    this.pending += records;
    if (this.pending >= this.flushEvery || this.out.at >= FLUSH_BYTES) this.handOff();
    else if (before === 0) queueMicrotask(this.flushTask);
  }

  private readonly flushTask = (): void => {
    if (!this.closed) this.handOffQuietly();
  };

  /** The process is exiting without cleanup(): hand the journal to the OS, start nothing (no compaction). */
  private atExit(): void {
    this.closed = true;
    this.handOffQuietly();
  }

  /** A hand-off from where nobody can be told of a failure (a microtask, process exit): the next write, flush() or cleanup() throws it. */
  private handOffQuietly(): void {
    if (this.failure !== undefined) return;
    try {
      this.handOff();
    } catch {
      // Kept in this.failure.
    }
  }

  /** Writes the waiting records as one frame (and, for `always`, syncs it). Throws io_error after turning the store read-only. */
  private handOff(): void {
    const out = this.out;
    this.records += this.pending;
    this.pending = 0;
    if (out.at === FRAME_HEADER_SIZE) return;
    if (this.failure !== undefined) {
      out.at = FRAME_HEADER_SIZE; // never written: a failed journal writes nothing more
      return;
    }
    const length = out.at;
    sealFrame(out.bytes, out.view, 0, length, this.frameIndex);
    // The buffer is reused whatever happens next: a frame is written at most once.
    out.at = FRAME_HEADER_SIZE;
    try {
      writeAll(this.fs, this.fd, out.bytes, length, this.segmentEnd);
    } catch (error) {
      throw this.fail(ioError(this.currentPath(), 'write to', error));
    }
    this.frameIndex++;
    this.segmentEnd += length;
    this.segmentBytes.set(this.segment, this.segmentEnd);
    this.bytesWritten += length;
    this.frames++;
    this.written++;
    if (out.bytes.length > 4 * BUFFER_BYTES) out.shrink(BUFFER_BYTES);
    if (this.mode === 'always') {
      try {
        this.fs.fdatasyncSync(this.fd);
      } catch (error) {
        throw this.fail(ioError(this.currentPath(), 'fdatasync', error));
      }
      this.synced = this.written;
      this.syncs++;
    } else if (this.mode === 'everysec' && this.syncsInFlight === 0 && performance.now() - this.lastSyncStart >= SYNC_INTERVAL_MS) {
      // A long synchronous stretch never lets the timer run: its hand-offs start the sync themselves.
      // The fdatasync runs in the thread pool at once; only its callback waits for the event loop.
      this.backgroundSync();
    }
    this.maybeCompact();
  }

  private backgroundSync(): void {
    if (this.failure === undefined && (this.synced < this.written || this.dirDirty)) this.sync().catch(() => undefined);
  }

  /** Resolves once every hand-off made before the call is synced (segments rotated away and the directory included). */
  private async sync(): Promise<void> {
    const target = this.written;
    while (this.synced < target || this.dirDirty || this.retired.length > 0) {
      if (this.failure !== undefined) throw this.failure;
      this.syncing ??= this.syncOnce().finally(() => {
        this.syncing = undefined;
      });
      await this.syncing;
    }
    if (this.failure !== undefined) throw this.failure;
  }

  private syncOnce(): Promise<void> {
    this.lastSyncStart = performance.now();
    const upTo = this.written;
    const retired = this.retired;
    this.retired = [];
    const fds = [...retired, this.fd];
    let dirFd: number | undefined;
    if (this.dirDirty) {
      this.dirDirty = false;
      try {
        dirFd = this.fs.openSync(this.dir, 'r');
      } catch (error) {
        return Promise.reject(this.fail(ioError(this.dir, 'open', error)));
      }
    }
    this.syncsInFlight++;
    return new Promise<void>((resolve, reject) => {
      let left = fds.length + (dirFd === undefined ? 0 : 1);
      let failed: { error: unknown; what: string } | undefined;
      const done = (what: string) => (error: NodeJS.ErrnoException | null) => {
        if (error !== null && failed === undefined) failed = { error, what };
        if (--left > 0) return;
        this.syncsInFlight--;
        if (dirFd !== undefined) this.fs.closeSync(dirFd);
        for (const fd of retired) this.fs.closeSync(fd);
        if (this.closed && this.syncsInFlight === 0) this.closeFiles();
        if (failed !== undefined) {
          reject(this.failure ?? this.fail(ioError(failed.what, 'fdatasync', failed.error)));
          return;
        }
        this.synced = Math.max(this.synced, upTo);
        this.syncs++;
        resolve();
      };
      for (const fd of fds) this.fs.fdatasync(fd, done(this.currentPath()));
      if (dirFd !== undefined) this.fs.fsync(dirFd, done(this.dir));
    });
  }

  private closeFiles(): void {
    for (const fd of [...this.retired, this.fd]) {
      try {
        this.fs.closeSync(fd);
      } catch {
        // already closed
      }
    }
    this.retired = [];
    this.fd = -1;
  }

  /** Turns the store read-only; returns the error every later write throws. */
  private fail(cause: StateError): StateError {
    if (this.failure === undefined) {
      this.failure = new StateError(
        'io_error',
        `${cause.message}. The store is read-only from now on: writes acknowledged before this stay on disk; reopen it to go on.`,
        { ...(cause.file === undefined ? {} : { file: cause.file }), rule: 'io', cause: (cause as Error).cause ?? cause },
      );
      if (this.timer !== undefined) clearInterval(this.timer);
    }
    return this.failure;
  }

  private currentPath(): string {
    return join(this.dir, segmentFile(this.segment));
  }

  // ─── compaction ──────────────────────────────────────────────────────────────

  private maybeCompact(): void {
    if (this.compaction === false || this.compactor === undefined || this.compactor.running || this.closed) return;
    let journalBytes = 0;
    for (const bytes of this.segmentBytes.values()) journalBytes += bytes;
    const threshold = Math.max(this.compaction.minBytes, this.compaction.ratio * this.snapshotBytes, this.compactionFloor);
    if (journalBytes >= threshold) this.startCompaction().catch(() => undefined);
  }

  /**
   * Starts a new segment, and a worker that writes the state before it as the next snapshot from the
   * files alone (the previous snapshot and the older segments), so that the event loop never copies
   * or serializes the state. The worker switches the manifest when the snapshot is durable.
   */
  private startCompaction(): Promise<void> {
    const compactor = this.compactor;
    if (compactor === undefined) return Promise.reject(new StateError('invalid_argument', 'compaction is off for this store'));
    if (compactor.running) return compactor.done();
    this.rotate();
    const started = performance.now();
    const job: CompactionJob = {
      dir: this.dir,
      storeId: Buffer.from(this.manifest.storeId).toString('hex'),
      sessionId: this.manifest.sessionId,
      createdAt: this.manifest.createdAt,
      snapshot: this.snapshot,
      firstSegment: this.firstSegment,
      generation: this.segment,
      backend: this.backend,
    };
    return compactor.start(job).then(
      (result) => {
        if (result === undefined || this.closed) return;
        this.firstSegment = job.generation;
        this.snapshot = job.generation;
        this.snapshotBytes = result.bytes;
        for (const number of [...this.segmentBytes.keys()]) if (number < job.generation) this.segmentBytes.delete(number);
        this.compactions++;
        this.compactionError = undefined;
        this.lastCompaction = { ms: performance.now() - started, variables: result.variables, snapshotBytes: result.bytes };
      },
      (error: unknown) => {
        // Nothing is lost: the manifest still names the old snapshot and every segment since.
        this.compactionError = error instanceof Error ? error.message : String(error);
        let journalBytes = 0;
        for (const bytes of this.segmentBytes.values()) journalBytes += bytes;
        this.compactionFloor = journalBytes + (this.compaction === false ? 0 : this.compaction.minBytes);
        throw error;
      },
    );
  }

  /** Continues in a new segment. The old one is synced (and closed) by the next sync. */
  private rotate(): void {
    const next = this.segment + 1;
    const path = join(this.dir, segmentFile(next));
    let fd: number;
    try {
      fd = this.fs.openSync(path, 'wx');
      const header = fileHeader(JOURNAL_MAGIC, next, this.manifest.storeId);
      writeAll(this.fs, fd, header, header.length, 0);
      if (this.mode === 'always') {
        this.fs.fdatasyncSync(fd);
        syncDirectory(this.fs, this.dir);
      }
    } catch (error) {
      throw this.fail(ioError(path, 'create', error));
    }
    if (this.mode === 'always') this.fs.closeSync(this.fd);
    else {
      this.retired.push(this.fd);
      this.dirDirty = true;
    }
    this.fd = fd;
    this.segment = next;
    this.frameIndex = 0;
    this.segmentEnd = FILE_HEADER_SIZE;
    this.segmentBytes.set(next, FILE_HEADER_SIZE);
    // Each segment starts with a clock reading: it can be read on its own.
    this.lastTime = Number.NaN;
  }
}
