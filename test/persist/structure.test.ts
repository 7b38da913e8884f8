// Files whose every checksum is right but whose structure is wrong (written
// by another version, another store, or by hand): each is refused with
// corrupt_data naming the file, never read as something else. And the wide
// record for registration orders past 2^32, and a frame whose last sector
// never reached the disk (a machine crash), which is a torn tail.

import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { JsLocalState, LocalState, type StateError } from '../../dist/index.js';
import { ByteWriter } from '../../dist/persist/codec.js';
import { FRAME_HEADER_SIZE, JOURNAL_MAGIC, MANIFEST_MAGIC, SNAPSHOT_FRAME, SNAPSHOT_MAGIC } from '../../dist/persist/format.js';
import { fileHeader, sealFrame } from '../../dist/persist/frames.js';
import { nodeFs } from '../../dist/persist/fs.js';
import { readManifest } from '../../dist/persist/manifest.js';
import { type AnyStore, fingerprint, frameEnds, freshPath, internals, persistOptions } from './helpers.js';

type Frame = (out: ByteWriter) => void;

/** A file of `magic` with these frames, every checksum right. */
function craft(magic: number, number: number, storeId: Uint8Array, frames: readonly Frame[]): Buffer {
  const parts: Buffer[] = [Buffer.from(fileHeader(magic, number, storeId))];
  frames.forEach((write, index) => {
    const out = new ByteWriter(256);
    out.at = FRAME_HEADER_SIZE;
    write(out);
    sealFrame(out.bytes, out.view, 0, out.at, index);
    parts.push(Buffer.from(out.bytes.subarray(0, out.at)));
  });
  return Buffer.concat(parts);
}

/** A compacted store of one variable: a snapshot (generation 2) and an empty segment 2. */
async function compacted(): Promise<{ path: string; storeId: Uint8Array }> {
  const path = freshPath();
  const store = await LocalState.init({ persist: persistOptions(path, { compaction: { minBytes: 2 ** 40 } }) });
  store.registerVariable('x', 'float', 1);
  await internals(store).journal?.compactNow();
  store.cleanup();
  return { path, storeId: readManifest(nodeFs, path).storeId };
}

const header =
  (counters: Record<string, unknown>): Frame =>
  (out) => {
    out.u8(SNAPSHOT_FRAME.HEADER);
    out.json({
      nextSerial: 2,
      nextOrder: 2,
      totalOperations: 1,
      totalUpdates: 0,
      lastImport: null,
      variables: 0,
      numeric: 0,
      lastTime: 0,
      ...counters,
    });
  };
/** A payload of raw UTF-8, as the manifest's body is (no length prefix). */
const raw =
  (text: string): Frame =>
  (out) => {
    out.reserve(text.length * 3);
    out.at += out.bytes.write(text, out.at, 'utf8');
  };
const end =
  (count: number): Frame =>
  (out) => {
    out.u8(SNAPSHOT_FRAME.END);
    out.u32(count);
  };

async function refusal(path: string): Promise<StateError> {
  return (await JsLocalState.init({ persist: persistOptions(path) }).then(
    (s) => {
      s.cleanup();
      throw new Error('opened');
    },
    (e: unknown) => e,
  )) as StateError;
}

describe('snapshots and manifests that verify but are not what they should be', () => {
  const SNAPSHOT = 'snapshot-00000002.lss';
  const cases: ReadonlyArray<readonly [string, (storeId: Uint8Array) => Buffer]> = [
    ['another generation', (id) => craft(SNAPSHOT_MAGIC, 3, id, [header({}), end(0)])],
    ['another store', () => craft(SNAPSHOT_MAGIC, 2, new Uint8Array(16).fill(7), [header({}), end(0)])],
    ['a journal under a snapshot name', (id) => craft(JOURNAL_MAGIC, 2, id, [header({}), end(0)])],
    ['no header frame first', (id) => craft(SNAPSHOT_MAGIC, 2, id, [end(0)])],
    ['a malformed header', (id) => craft(SNAPSHOT_MAGIC, 2, id, [header({ nextSerial: 'one' }), end(0)])],
    ['no end frame', (id) => craft(SNAPSHOT_MAGIC, 2, id, [header({})])],
    ['frames after the end', (id) => craft(SNAPSHOT_MAGIC, 2, id, [header({}), end(0), end(0)])],
    ['an end that counts other variables', (id) => craft(SNAPSHOT_MAGIC, 2, id, [header({}), end(3)])],
    ['an unknown frame', (id) => craft(SNAPSHOT_MAGIC, 2, id, [header({}), (out) => out.u8(9), end(0)])],
    ['a header cut short', (id) => craft(SNAPSHOT_MAGIC, 2, id, []).subarray(0, 20)],
  ];
  it.each(cases)('a snapshot with %s is refused naming it', async (_what, make) => {
    const { path, storeId } = await compacted();
    writeFileSync(join(path, SNAPSHOT), make(storeId));
    expect(await refusal(path)).toMatchObject({ code: 'corrupt_data', file: SNAPSHOT });
  });

  const manifestCases: ReadonlyArray<readonly [string, (storeId: Uint8Array) => Buffer]> = [
    ['two frames', (id) => craft(MANIFEST_MAGIC, 2, id, [raw('{}'), raw('{}')])],
    ['a body that is not JSON', (id) => craft(MANIFEST_MAGIC, 2, id, [raw('{"storeId":')])],
    ['a body that describes no store', (id) => craft(MANIFEST_MAGIC, 2, id, [raw('{"storeId":"x"}')])],
    [
      'a body naming another store than its header',
      (id) =>
        craft(MANIFEST_MAGIC, 2, id, [
          raw(JSON.stringify({ storeId: '0'.repeat(32), sessionId: 's', createdAt: 1, snapshot: 2, firstSegment: 2 })),
        ]),
    ],
    ['a header cut short', (id) => craft(MANIFEST_MAGIC, 2, id, []).subarray(0, 10)],
  ];
  it.each(manifestCases)('a manifest with %s is refused naming it', async (_what, make) => {
    const { path, storeId } = await compacted();
    writeFileSync(join(path, 'MANIFEST'), make(storeId));
    expect(await refusal(path)).toMatchObject({ code: 'corrupt_data', file: 'MANIFEST' });
  });

  it('a segment of another format version is refused, naming the version', async () => {
    const { path } = await compacted();
    const file = join(path, 'journal-00000002.lsj');
    const bytes = readFileSync(file);
    bytes.writeUInt16LE(2, 4);
    bytes.writeUInt32LE(crc32(bytes.subarray(0, 28)), 28);
    writeFileSync(file, bytes);
    const error = await refusal(path);
    expect(error).toMatchObject({ code: 'corrupt_data', file: 'journal-00000002.lsj' });
    expect(error.message).toContain('format version 2');
  });
});

describe('the journal, at its edges', () => {
  it('registration orders past 2^32 travel in the wide record and recover exactly, on both backends', async () => {
    for (const Backend of [LocalState, JsLocalState]) {
      const path = freshPath();
      const store = (await Backend.init({ persist: persistOptions(path) })) as AnyStore;
      const registry = (store as unknown as { registry: { restore(serial: number, order: number): void } }).registry;
      registry.restore(1, 2 ** 32 + 5);
      store.registerVariable('far', 'float', 0.5);
      store.registerVariable('text', 'string', 'far too');
      store.setVariable('far', -0, { wide: true });
      store.ref('far').set(Number.NaN);
      store.updateVariables({ far: 2, text: 'batch' }, { by: 'batch' });
      const expected = fingerprint(store);
      store.cleanup();
      const reopened = await Backend.init({ persist: persistOptions(path) });
      expect(fingerprint(reopened)).toBe(expected);
      reopened.cleanup();
    }
  });

  it('a last frame with a sector of zeros (its header reached the disk, a page did not) is a torn tail', async () => {
    const path = freshPath();
    const store = await LocalState.init({ persist: persistOptions(path, { fsync: 'always' }) });
    store.registerVariable('big', 'string', 'a');
    const before = fingerprint(store);
    store.setVariable('big', 'b'.repeat(3000));
    store.setVariable('big', 'c'.repeat(3000)); // the last frame
    const file = join(path, 'journal-00000001.lsj');
    const ends = frameEnds(file);
    const start = ends.at(-2) as number;
    const bytes = readFileSync(file);
    const sector = Math.ceil((start + FRAME_HEADER_SIZE) / 512) * 512;
    bytes.fill(0, sector, sector + 512);
    writeFileSync(file, bytes);
    store.cleanup();
    // cleanup() journaled one more frame (the operation count): take it off again, as the crash would have.
    truncateSync(file, ends.at(-1) as number);
    const reopened = await LocalState.init({ persist: persistOptions(path) });
    expect(reopened.getVariable('big')).toBe('b'.repeat(3000));
    expect(before).not.toBe(fingerprint(reopened));
    expect(reopened.persistence()?.recovery.tornBytes).toBeGreaterThan(0);
    reopened.cleanup();
    // The same zeros in a frame that is not the last are damage.
    const damaged = freshPath();
    const other = await LocalState.init({ persist: persistOptions(damaged, { fsync: 'always' }) });
    other.registerVariable('big', 'string', 'a');
    other.setVariable('big', 'b'.repeat(3000));
    other.setVariable('big', 'c');
    const otherFile = join(damaged, 'journal-00000001.lsj');
    const otherEnds = frameEnds(otherFile);
    const otherBytes = readFileSync(otherFile);
    const middle = Math.ceil(((otherEnds.at(-3) as number) + FRAME_HEADER_SIZE) / 512) * 512;
    otherBytes.fill(0, middle, middle + 512);
    other.cleanup();
    writeFileSync(otherFile, otherBytes.subarray(0, otherEnds.at(-1) as number));
    expect(await refusal(damaged)).toMatchObject({ code: 'corrupt_data', file: 'journal-00000001.lsj' });
  });
});
