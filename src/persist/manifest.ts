// The manifest: which snapshot and which first journal segment are live. It
// changes only when a store is created and when a compaction finishes, and is
// always replaced whole (io.ts replaceFile). The live segments are the first
// one and every consecutive one after it: starting a segment needs no
// manifest write, so rotation costs no fsync on the event loop.

import { join } from 'node:path';
import { z } from 'zod';
import { ByteWriter } from './codec.js';
import { FILE_HEADER_SIZE, FRAME_HEADER_SIZE, MANIFEST_FILE, MANIFEST_MAGIC, STORE_ID_SIZE } from './format.js';
import { corrupt, FrameFile, sealFrame, writeFileHeader } from './frames.js';
import type { PersistFs } from './fs.js';
import { replaceFile } from './io.js';

export interface Manifest {
  /** Random, per store directory: every file of the directory carries it. */
  readonly storeId: Uint8Array;
  readonly sessionId: string;
  readonly createdAt: number;
  /** Generation of the live snapshot, 0 for none: it holds the state before segment `generation`. */
  readonly snapshot: number;
  readonly firstSegment: number;
}

const manifestSchema = z.strictObject({
  storeId: z.string().regex(/^[0-9a-f]{32}$/),
  sessionId: z.string().min(1),
  createdAt: z.number().finite(),
  snapshot: z.number().int().min(0).max(0xffffffff),
  firstSegment: z.number().int().min(1).max(0xffffffff),
});

export function manifestBytes(manifest: Manifest): Uint8Array {
  const out = new ByteWriter(512);
  out.at = FILE_HEADER_SIZE + FRAME_HEADER_SIZE;
  const json = JSON.stringify({
    storeId: Buffer.from(manifest.storeId).toString('hex'),
    sessionId: manifest.sessionId,
    createdAt: manifest.createdAt,
    snapshot: manifest.snapshot,
    firstSegment: manifest.firstSegment,
  });
  out.reserve(json.length * 3);
  out.at += out.bytes.write(json, out.at, 'utf8');
  writeFileHeader(out.bytes, MANIFEST_MAGIC, manifest.firstSegment, manifest.storeId);
  sealFrame(out.bytes, out.view, FILE_HEADER_SIZE, out.at, 0);
  return out.bytes.subarray(0, out.at);
}

export function writeManifest(fs: PersistFs, dir: string, manifest: Manifest): void {
  replaceFile(fs, dir, MANIFEST_FILE, manifestBytes(manifest));
}

/** Reads and verifies the manifest; corrupt_data naming it for any damage. */
export function readManifest(fs: PersistFs, dir: string): Manifest {
  const file = new FrameFile(fs, join(dir, MANIFEST_FILE), MANIFEST_FILE, MANIFEST_MAGIC);
  try {
    let json: unknown;
    let frames = 0;
    for (const { payload } of file.frames()) {
      frames++;
      try {
        json = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
      } catch {
        json = undefined;
      }
    }
    const end = file.ending();
    if (end.kind === 'corrupt') throw end.error;
    if (end.kind === 'torn') throw corrupt(MANIFEST_FILE, end.offset, 'the manifest is cut short');
    if (frames !== 1) throw corrupt(MANIFEST_FILE, FILE_HEADER_SIZE, `the manifest has ${frames} frames, not 1`);
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) throw corrupt(MANIFEST_FILE, FILE_HEADER_SIZE, 'the manifest does not describe a store');
    const storeId = Uint8Array.from(Buffer.from(parsed.data.storeId, 'hex'));
    if (storeId.length !== STORE_ID_SIZE || !Buffer.from(storeId).equals(Buffer.from(file.storeId))) {
      throw corrupt(MANIFEST_FILE, 0, 'the manifest header and body name different stores');
    }
    return { ...parsed.data, storeId };
  } finally {
    file.close();
  }
}
