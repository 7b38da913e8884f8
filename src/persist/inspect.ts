// What `localstate inspect` reports about a store directory. It only reads:
// no lock is taken, no torn tail is cut, nothing is repaired or removed, so it
// can look at a directory a live store holds, or one that refuses to open.

import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JsLocalState } from '../js-local-state.js';
import type { VariableInfo } from '../provider.js';
import { MANIFEST_FILE, segmentFile, snapshotFile } from './format.js';
import { nodeFs } from './fs.js';
import { lockHolder } from './lock.js';
import { readManifest } from './manifest.js';
import { BadRecord, type ReplayedJournal, replaySegments, segmentsFrom } from './recovery.js';
import { Replayer } from './replay.js';
import { loadSnapshot } from './snapshot-file.js';

export interface InspectReport {
  readonly path: string;
  readonly sessionId: string;
  readonly createdAt: number;
  readonly lockedBy: number | undefined;
  readonly snapshot: { readonly file: string; readonly variables: number; readonly bytes: number } | undefined;
  readonly segments: ReadonlyArray<{ readonly file: string; readonly bytes: number; readonly frames: number }>;
  readonly records: number;
  /** A torn tail the next open will cut off. */
  readonly torn: { readonly file: string; readonly offset: number; readonly bytes: number } | undefined;
  /** Damage the next open will refuse (or `repair` will cut at); the variables are those of the valid prefix. */
  readonly damage: { readonly file: string; readonly offset: number; readonly message: string } | undefined;
  readonly variables: readonly VariableInfo[];
  readonly stats: Readonly<Record<string, number>>;
}

/** Reads a store directory without changing it; throws corrupt_data when the manifest or snapshot is damaged. */
export async function inspect(path: string): Promise<InspectReport> {
  const fs = nodeFs;
  const dir = resolve(path);
  if (!readdirSync(dir).includes(MANIFEST_FILE)) throw new Error(`${dir} holds no store (no ${MANIFEST_FILE})`);
  const manifest = readManifest(fs, dir);
  let stopAt: { segment: number; offset: number } | undefined;
  for (;;) {
    const store = await JsLocalState.init({ sessionId: manifest.sessionId });
    try {
      store.createdAt = manifest.createdAt;
      const replayer = new Replayer(store);
      const snapshot = manifest.snapshot > 0 ? loadSnapshot(fs, dir, manifest.snapshot, manifest.storeId, replayer, store) : undefined;
      let journal: ReplayedJournal;
      try {
        // repair: true only makes the scan stop at damage and report it; replay never changes a file.
        journal = replaySegments(fs, dir, manifest, replayer, { repair: true, stopAt });
      } catch (error) {
        if (!(error instanceof BadRecord) || stopAt !== undefined) throw error;
        stopAt = { segment: error.segment, offset: error.offset };
        continue;
      }
      const segments = segmentsFrom(fs, dir, manifest.firstSegment).map((number) => {
        const file = segmentFile(number);
        const state = journal.segments.find((s) => s.number === number);
        return { file, bytes: sizeOf(join(dir, file)), frames: state?.frames ?? 0 };
      });
      const holder = lockHolder(fs, dir);
      return {
        path: dir,
        sessionId: manifest.sessionId,
        createdAt: manifest.createdAt,
        lockedBy: holder?.pid,
        snapshot: snapshot === undefined ? undefined : { file: snapshotFile(manifest.snapshot), ...snapshot },
        segments,
        records: replayer.records,
        torn:
          journal.torn === undefined
            ? undefined
            : { file: segmentFile(journal.torn.segment), offset: journal.torn.offset, bytes: journal.torn.bytes },
        damage:
          journal.damage === undefined
            ? undefined
            : {
                file: journal.damage.error.file ?? segmentFile(journal.damage.segment),
                offset: journal.damage.offset,
                message: journal.damage.error.message,
              },
        variables: store.listVariables(),
        stats: { ...store.stats() },
      };
    } finally {
      store.cleanup();
    }
  }
}

function sizeOf(path: string): number {
  return statSync(path).size;
}
