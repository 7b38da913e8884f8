// The snapshot file: the whole state before segment <generation>, as frames.
//
//   file header (SNAPSHOT_MAGIC, generation, store id)
//   frame 0:  u8 HEADER,    u32 n, JSON counters (next serial and order, operations, updates, last import, …)
//   frame 1…: u8 VARIABLES, variables in registration order (codec.ts), about 1 MiB a frame
//   last:     u8 END,       u32 variables            (a snapshot without it is cut short: corrupt)
//
// It is written to a temp file, fsynced, and renamed into place by the
// compaction (compaction.ts); a snapshot file under its own name is complete.

import { join } from 'node:path';
import { z } from 'zod';
import type { Store } from '../store/store.js';
import { ByteReader, ByteWriter, decodeVariable, encodeVariable } from './codec.js';
import { FILE_HEADER_SIZE, FRAME_HEADER_SIZE, SNAPSHOT_FRAME, SNAPSHOT_MAGIC, snapshotFile } from './format.js';
import { corrupt, FrameFile, fileHeader, sealFrame } from './frames.js';
import type { PersistFs } from './fs.js';
import { ioError, tempName, writeAll } from './io.js';
import type { Replayer, SnapshotHeader } from './replay.js';

const FRAME_TARGET_BYTES = 1 << 20;

const headerSchema = z.strictObject({
  nextSerial: z.number().int().min(1),
  nextOrder: z.number().int().min(1),
  totalOperations: z.number().int().min(0),
  totalUpdates: z.number().int().min(0),
  lastImport: z.record(z.string(), z.union([z.string(), z.number()])).nullable(),
  variables: z.number().int().min(0),
  numeric: z.number().int().min(0),
  lastTime: z.number().finite(),
});

/** A snapshot written to its temp file and synced, ready to be renamed into place. */
export interface WrittenSnapshot {
  readonly temp: string;
  readonly file: string;
  readonly bytes: number;
  readonly variables: number;
}

/**
 * Writes `store` as snapshot `generation` into a temp file beside its final name, and fsyncs it.
 * `stop()` is asked between frames; when it says so the temp file is removed and undefined returned.
 */
export function writeSnapshot(
  fs: PersistFs,
  dir: string,
  generation: number,
  storeId: Uint8Array,
  store: Store,
  lastTime: number,
  stop: () => boolean,
): WrittenSnapshot | undefined {
  const file = join(dir, snapshotFile(generation));
  const temp = tempName(file);
  let fd: number;
  try {
    fd = fs.openSync(temp, 'w');
  } catch (error) {
    throw ioError(temp, 'create', error);
  }
  let position = 0;
  let index = 0;
  const out = new ByteWriter(FRAME_TARGET_BYTES + (FRAME_TARGET_BYTES >> 2));
  const startFrame = (kind: number) => {
    out.at = FRAME_HEADER_SIZE;
    out.u8(kind);
  };
  const endFrame = () => {
    sealFrame(out.bytes, out.view, 0, out.at, index++);
    writeAll(fs, fd, out.bytes, out.at, position);
    position += out.at;
  };
  try {
    const header = fileHeader(SNAPSHOT_MAGIC, generation, storeId);
    writeAll(fs, fd, header, header.length, 0);
    position = FILE_HEADER_SIZE;
    const targets = store.inOrder();
    const [nextSerial, nextOrder] = store.registry.mark();
    const counters: SnapshotHeader = {
      nextSerial,
      nextOrder,
      totalOperations: store.totalOperations,
      totalUpdates: store.totalUpdates,
      lastImport: (store.lastImport as SnapshotHeader['lastImport'] | undefined) ?? null,
      variables: targets.length,
      numeric: targets.reduce<number>((n, target) => n + (store.storageOf(target).spec(target).numeric ? 1 : 0), 0),
      lastTime,
    };
    startFrame(SNAPSHOT_FRAME.HEADER);
    out.json(counters);
    endFrame();
    startFrame(SNAPSHOT_FRAME.VARIABLES);
    for (const target of targets) {
      encodeVariable(out, store.describe(target));
      if (out.at >= FRAME_TARGET_BYTES) {
        endFrame();
        if (stop()) throw new Stopped();
        startFrame(SNAPSHOT_FRAME.VARIABLES);
      }
    }
    if (out.at > FRAME_HEADER_SIZE + 1) endFrame();
    startFrame(SNAPSHOT_FRAME.END);
    out.u32(targets.length);
    endFrame();
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    return { temp, file, bytes: position, variables: targets.length };
  } catch (error) {
    try {
      fs.closeSync(fd);
    } catch {
      // closed already
    }
    try {
      fs.unlinkSync(temp);
    } catch {
      // nothing to remove
    }
    if (error instanceof Stopped) return undefined;
    throw error instanceof Error && error.name === 'StateError' ? error : ioError(temp, 'write', error);
  }
}

class Stopped extends Error {}

/** Loads snapshot `generation` into the replayer's store; corrupt_data naming the file and offset for any damage. */
export function loadSnapshot(
  fs: PersistFs,
  dir: string,
  generation: number,
  storeId: Uint8Array,
  replayer: Replayer,
  store: Store,
): { readonly variables: number; readonly bytes: number } {
  const name = snapshotFile(generation);
  let file: FrameFile;
  try {
    file = new FrameFile(fs, join(dir, name), name, SNAPSHOT_MAGIC);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw corrupt(name, 0, 'the manifest names this snapshot, but it is missing');
    throw error;
  }
  try {
    if (file.ending().kind === 'torn') throw corrupt(name, 0, 'the snapshot is cut short');
    if (file.number !== generation) throw corrupt(name, 8, `the file says generation ${file.number}`);
    if (!Buffer.from(file.storeId).equals(Buffer.from(storeId))) throw corrupt(name, 12, 'the snapshot belongs to another store');
    let header: SnapshotHeader | undefined;
    let ended: number | undefined;
    let variables = 0;
    for (const { payload, offset } of file.frames()) {
      const input = new ByteReader(payload, name, offset);
      const kind = input.u8();
      if (ended !== undefined) throw input.bad('frames after the end frame');
      if (header === undefined) {
        if (kind !== SNAPSHOT_FRAME.HEADER) throw input.bad('the first frame is not the snapshot header');
        const parsed = headerSchema.safeParse(input.json());
        if (!parsed.success) throw input.bad('the snapshot header is malformed');
        header = parsed.data;
        if (store.table !== undefined && header.numeric > 0) store.table.reserve(header.numeric, `loading ${header.numeric} variables`);
      } else if (kind === SNAPSHOT_FRAME.VARIABLES) {
        while (!input.done) {
          replayer.addVariable(decodeVariable(input), input);
          variables++;
        }
      } else if (kind === SNAPSHOT_FRAME.END) {
        ended = input.u32();
        if (ended !== variables || ended !== header.variables)
          throw input.bad(`the snapshot ends after ${variables} of ${ended} variables`);
      } else {
        throw input.bad(`unknown snapshot frame ${kind}`);
      }
    }
    const end = file.ending();
    if (end.kind === 'corrupt') throw end.error;
    if (end.kind === 'torn' || ended === undefined || header === undefined) {
      throw corrupt(name, end.offset, 'the snapshot is cut short (no end frame)');
    }
    replayer.applySnapshotHeader(header);
    return { variables, bytes: file.size };
  } finally {
    file.close();
  }
}
