// Opening a persisted store (LocalState.init and JsLocalState.init with
// `persist`): take the directory's lock, then either create the store's files
// or recover the store from them, and attach the journal that records every
// write from then on.

import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { invalidArgument, quote } from '../errors.js';
import type { PersistOptions } from '../options.js';
import { parseSnapshot } from '../snapshot.js';
import type { RecoveryReport, Repair } from '../store/journal.js';
import type { Store } from '../store/store.js';
import { FILE_HEADER_SIZE, JOURNAL_MAGIC, MANIFEST_FILE, segmentFile, segmentNumber, snapshotGeneration, TEMP_SUFFIX } from './format.js';
import { corrupt, fileHeader } from './frames.js';
import { type PersistFs, persistFs } from './fs.js';
import { ioError, syncDirectory, writeAll } from './io.js';
import { FileJournal } from './journal.js';
import { acquireLock, type Lock, releaseLock } from './lock.js';
import { type Manifest, readManifest, writeManifest } from './manifest.js';
import { type ParsedPersistOptions, resolvePersistOptions } from './options.js';
import { applyRepairs, BadRecord, type ReplayedJournal, replaySegments, type SegmentState } from './recovery.js';
import { Replayer } from './replay.js';
import { loadSnapshot } from './snapshot-file.js';

export interface InitRequest {
  readonly sessionId?: string | undefined;
  readonly existingState?: unknown;
}

/** Creates or recovers a persisted store; `make` builds an empty store of the backend for a session id. */
export async function openPersisted<S extends Store>(
  options: PersistOptions,
  request: InitRequest,
  make: (sessionId: string | undefined) => Promise<S>,
  backend: 'wasm' | 'js',
): Promise<S> {
  const settings = resolvePersistOptions(options);
  const fs = persistFs();
  const dir = resolve(settings.path);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw ioError(dir, 'create the directory', error);
  }
  const lock = acquireLock(fs, dir);
  try {
    const files = fs.readdirSync(dir);
    const at: Opening<S> = { fs, dir, lock, files, settings, request, make, backend };
    return await (files.includes(MANIFEST_FILE) ? reopen(at) : create(at));
  } catch (error) {
    releaseLock(fs, lock);
    throw error;
  }
}

/** What creating or reopening a directory works with: the directory, held under its lock, and the request. */
interface Opening<S extends Store> {
  readonly fs: PersistFs;
  readonly dir: string;
  readonly lock: Lock;
  /** The directory's files when it was opened. */
  readonly files: readonly string[];
  readonly settings: ParsedPersistOptions;
  readonly request: InitRequest;
  readonly make: (sessionId: string | undefined) => Promise<S>;
  readonly backend: 'wasm' | 'js';
}

async function create<S extends Store>(at: Opening<S>): Promise<S> {
  const { fs, dir, files, request, make } = at;
  // A crash while a store was being created leaves at most an empty first segment; anything more
  // means the manifest was lost, and starting afresh would drop what the files hold.
  for (const file of files) {
    if (snapshotGeneration(file) !== undefined || (segmentNumber(file) !== undefined && sizeOf(fs, join(dir, file)) > FILE_HEADER_SIZE)) {
      throw corrupt(MANIFEST_FILE, 0, `the manifest is missing, but the directory holds store files (${file})`);
    }
  }
  // Refused before any file is written: a bad existingState leaves no store behind.
  if (request.existingState !== undefined) parseSnapshot(request.existingState);
  const store = await make(request.sessionId);
  removeFiles(
    fs,
    dir,
    files.filter((file) => file.endsWith(TEMP_SUFFIX) || segmentNumber(file) !== undefined),
  );
  const manifest: Manifest = {
    storeId: Uint8Array.from(randomBytes(16)),
    sessionId: store.sessionId,
    createdAt: store.createdAt,
    snapshot: 0,
    firstSegment: 1,
  };
  // The segment before the manifest: a manifest always names a segment that exists.
  const fd = createSegment(fs, dir, manifest, 1);
  try {
    writeManifest(fs, dir, manifest);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  const report: RecoveryReport = { ms: 0, snapshotVariables: 0, records: 0, frames: 0, segments: 1, tornBytes: 0, repairs: [] };
  attach(store, at, manifest, [{ number: 1, bytes: FILE_HEADER_SIZE, frames: 0 }], fd, 0, report);
  if (request.existingState !== undefined) {
    try {
      store.importState(request.existingState);
    } catch (error) {
      store.cleanup();
      throw error;
    }
  }
  return store;
}

async function reopen<S extends Store>(at: Opening<S>): Promise<S> {
  const { fs, dir, files, settings, request, make } = at;
  if (request.existingState !== undefined) {
    throw invalidArgument(
      `existingState cannot be imported into ${dir}: it already holds a store (its state is recovered from it). Import with importState() after init, or use a new path.`,
      { rule: 'existingState' },
    );
  }
  const started = performance.now();
  const manifest = readManifest(fs, dir);
  if (request.sessionId !== undefined && request.sessionId !== manifest.sessionId) {
    throw invalidArgument(`sessionId ${quote(request.sessionId)} differs from ${quote(manifest.sessionId)}, the session ${dir} holds`, {
      rule: 'sessionId',
    });
  }
  let stopAt: { segment: number; offset: number } | undefined;
  for (;;) {
    const store = await make(manifest.sessionId);
    store.createdAt = manifest.createdAt;
    const replayer = new Replayer(store);
    let journal: ReplayedJournal;
    let snapshot = { variables: 0, bytes: 0 };
    try {
      if (manifest.snapshot > 0) snapshot = loadSnapshot(fs, dir, manifest.snapshot, manifest.storeId, replayer, store);
      journal = replaySegments(fs, dir, manifest, replayer, { repair: settings.repair, stopAt });
    } catch (error) {
      store.cleanup();
      // A record that passed its checksum yet makes no sense: with repair, replay again up to its frame.
      if (error instanceof BadRecord && settings.repair && stopAt === undefined) {
        stopAt = { segment: error.segment, offset: error.offset };
        continue;
      }
      throw error instanceof BadRecord ? error.error : error;
    }
    const repairs = applyRepairs(fs, dir, journal);
    removeFiles(fs, dir, staleFiles(files, manifest));
    const segments: SegmentState[] = [...journal.segments];
    const last = segments[segments.length - 1];
    let fd: number;
    if (last === undefined || last.bytes === 0) {
      // Nothing of the last segment survived (a crash while it was created, or repair set it aside): start it again.
      const number = last?.number ?? manifest.firstSegment;
      removeFiles(fs, dir, [segmentFile(number)]);
      fd = createSegment(fs, dir, manifest, number);
      if (last === undefined) segments.push({ number, bytes: FILE_HEADER_SIZE, frames: 0 });
      else segments[segments.length - 1] = { number, bytes: FILE_HEADER_SIZE, frames: 0 };
    } else {
      try {
        fd = fs.openSync(join(dir, segmentFile(last.number)), 'r+');
      } catch (error) {
        throw ioError(join(dir, segmentFile(last.number)), 'open', error);
      }
    }
    const report: RecoveryReport = {
      ms: performance.now() - started,
      snapshotVariables: snapshot.variables,
      records: replayer.records,
      frames: journal.frames,
      segments: segments.length,
      tornBytes: journal.torn?.bytes ?? 0,
      repairs,
    };
    warnOfRepairs(dir, repairs);
    attach(store, at, manifest, segments, fd, snapshot.bytes, report);
    return store;
  }
}

function attach<S extends Store>(
  store: S,
  at: Opening<S>,
  manifest: Manifest,
  segments: readonly SegmentState[],
  fd: number,
  snapshotBytes: number,
  recovery: RecoveryReport,
): void {
  const { fs, dir, lock, settings, backend } = at;
  store.journal = new FileJournal(store, {
    fs,
    dir,
    lock,
    manifest,
    fsync: settings.fsync,
    compaction: settings.compaction,
    segments,
    fd,
    snapshotBytes,
    backend,
    recovery,
  });
}

/** Creates segment `number` with its header, durably; returns it open for writing. */
function createSegment(fs: PersistFs, dir: string, manifest: Manifest, number: number): number {
  const path = join(dir, segmentFile(number));
  let fd: number | undefined;
  try {
    fd = fs.openSync(path, 'wx');
    const header = fileHeader(JOURNAL_MAGIC, number, manifest.storeId);
    writeAll(fs, fd, header, header.length, 0);
    fs.fsyncSync(fd);
    syncDirectory(fs, dir);
    return fd;
  } catch (error) {
    if (fd !== undefined) fs.closeSync(fd);
    throw ioError(path, 'create', error);
  }
}

/** Files no manifest names any more: temp files, older snapshots, segments before the first live one. */
function staleFiles(files: readonly string[], manifest: Manifest): string[] {
  return files.filter((file) => {
    if (file.endsWith(TEMP_SUFFIX)) return true;
    const generation = snapshotGeneration(file);
    if (generation !== undefined) return generation !== manifest.snapshot;
    const number = segmentNumber(file);
    return number !== undefined && number < manifest.firstSegment;
  });
}

function removeFiles(fs: PersistFs, dir: string, names: readonly string[]): void {
  for (const name of names) {
    try {
      fs.unlinkSync(join(dir, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError(join(dir, name), 'remove', error);
    }
  }
}

function sizeOf(fs: PersistFs, path: string): number {
  const fd = fs.openSync(path, 'r');
  try {
    return fs.fstatSync(fd).size;
  } finally {
    fs.closeSync(fd);
  }
}

/** Repair never drops anything silently: each file set aside is named in a process warning, and in persistence().recovery. */
function warnOfRepairs(dir: string, repairs: readonly Repair[]): void {
  for (const repair of repairs) {
    process.emitWarning(
      `${dir}: repair kept the valid prefix of ${repair.file} (${repair.offset} bytes) and dropped ${repair.droppedBytes} bytes, ` +
        `moved aside as ${repair.movedTo} (${repair.reason})`,
      { code: 'LOCALSTATE_REPAIRED' },
    );
  }
}
