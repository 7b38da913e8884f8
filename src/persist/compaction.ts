// A compaction, as the worker thread runs it: rebuild the state before
// segment <generation> from the files alone (the live snapshot and the
// segments before <generation>, all closed), write it as snapshot
// <generation> (temp file, fsync), then commit: rename it into place, fsync
// the directory, replace the manifest (temp, fsync, rename, fsync directory),
// and remove the files it supersedes. A crash at any step leaves either the
// old manifest, whose files are all still there, or the new one, whose files
// are durable; the next open removes what neither names.
//
// Because the worker reads files, the event loop neither copies nor
// serializes the state: its share of a compaction is starting a segment and a
// worker (see bench/persist.ts for the longest stall measured at 1M variables).

import { join } from 'node:path';
import { JsLocalState } from '../js-local-state.js';
import { LocalState } from '../local-state.js';
import type { Store } from '../store/store.js';
import { CONTROL, type CompactionJob, type CompactionResult } from './compactor.js';
import { segmentFile, snapshotFile } from './format.js';
import type { PersistFs } from './fs.js';
import { ioError, syncDirectory } from './io.js';
import { type Manifest, writeManifest } from './manifest.js';
import { replaySegments } from './recovery.js';
import { Replayer } from './replay.js';
import { loadSnapshot, writeSnapshot } from './snapshot-file.js';

/** Runs a compaction; undefined when `control` cancelled it before the commit. */
export async function compact(job: CompactionJob, fs: PersistFs, control?: Int32Array): Promise<CompactionResult | undefined> {
  const cancelled = () => control !== undefined && Atomics.load(control, 0) !== CONTROL.RUNNING;
  const store: Store =
    job.backend === 'wasm' ? await LocalState.init({ sessionId: job.sessionId }) : await JsLocalState.init({ sessionId: job.sessionId });
  try {
    const manifest: Manifest = {
      storeId: Uint8Array.from(Buffer.from(job.storeId, 'hex')),
      sessionId: job.sessionId,
      createdAt: job.createdAt,
      snapshot: job.snapshot,
      firstSegment: job.firstSegment,
    };
    const replayer = new Replayer(store);
    if (job.snapshot > 0) loadSnapshot(fs, job.dir, job.snapshot, manifest.storeId, replayer, store);
    replaySegments(fs, job.dir, manifest, replayer, { repair: false, until: job.generation });
    if (cancelled()) return undefined;
    const written = writeSnapshot(fs, job.dir, job.generation, manifest.storeId, store, replayer.latest, cancelled);
    if (written === undefined) return undefined;
    if (control !== undefined && Atomics.compareExchange(control, 0, CONTROL.RUNNING, CONTROL.COMMITTING) !== CONTROL.RUNNING) {
      fs.unlinkSync(written.temp);
      return undefined;
    }
    try {
      try {
        fs.renameSync(written.temp, written.file);
        syncDirectory(fs, job.dir);
      } catch (error) {
        throw ioError(written.file, 'rename into place', error);
      }
      writeManifest(fs, job.dir, { ...manifest, snapshot: job.generation, firstSegment: job.generation });
    } finally {
      if (control !== undefined) {
        Atomics.store(control, 0, CONTROL.FINISHED);
        Atomics.notify(control, 0);
      }
    }
    // Superseded now; a failure here leaves files the next open removes.
    const superseded = [
      ...(job.snapshot > 0 ? [snapshotFile(job.snapshot)] : []),
      ...Array.from({ length: job.generation - job.firstSegment }, (_, i) => segmentFile(job.firstSegment + i)),
    ];
    for (const name of superseded) {
      try {
        fs.unlinkSync(join(job.dir, name));
      } catch {
        // gone already
      }
    }
    return { bytes: written.bytes, variables: written.variables };
  } finally {
    store.cleanup();
  }
}
