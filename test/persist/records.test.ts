// Frames whose checksums are right but whose records make no sense (a bug,
// or a file written by something else): recovery validates every record as a
// write or an import would, so each is refused with corrupt_data naming the
// file and the frame, and `repair` keeps the state before that frame. A gap
// between segments is refused by name too. And a compaction, run in this
// process, switches the manifest and removes what it supersedes.

import { appendFileSync, cpSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { StateError } from '../../dist/index.js';
import { ByteWriter, encodeVariable } from '../../dist/persist/codec.js';
import { compact } from '../../dist/persist/compaction.js';
import { CONTROL } from '../../dist/persist/compactor.js';
import { FRAME_HEADER_SIZE, RECORD } from '../../dist/persist/format.js';
import { sealFrame } from '../../dist/persist/frames.js';
import { nodeFs } from '../../dist/persist/fs.js';
import { inspect } from '../../dist/persist/inspect.js';
import { readManifest } from '../../dist/persist/manifest.js';
import { floatSpec } from '../../dist/types/numeric.js';
import { BACKENDS, type Backend, fingerprint, frameEnds, freshPath, persistOptions } from './helpers.js';

/** A store with x (float, 0..2), label (string) and a deletion; returns its path and state. */
async function base(Backend: Backend): Promise<{ path: string; state: string }> {
  const path = freshPath();
  const store = await Backend.init({ sessionId: 'records', persist: persistOptions(path) });
  store.registerVariable('x', 'float', 1, { constraints: { min: 0, max: 2 } });
  store.registerVariable('label', 'string', 'a');
  store.registerVariable('gone', 'integer', 1);
  store.deleteVariable('gone');
  store.setVariable('x', 1.5);
  const state = fingerprint(store);
  store.cleanup();
  return { path, state };
}

/** Appends one well-checksummed frame holding what `write` puts in it; returns the frame's offset. */
function appendFrame(path: string, write: (out: ByteWriter) => void): number {
  const file = join(path, 'journal-00000001.lsj');
  const offset = readFileSync(file).length;
  const out = new ByteWriter(256);
  out.at = FRAME_HEADER_SIZE;
  write(out);
  sealFrame(out.bytes, out.view, 0, out.at, frameEnds(file).length);
  appendFileSync(file, out.bytes.subarray(0, out.at));
  return offset;
}

const set = (order: number, value: number) => (out: ByteWriter) => {
  out.u8(RECORD.SET);
  out.u32(order);
  out.f64(value);
};

const variable = (overrides: Record<string, unknown>) => (out: ByteWriter) => {
  out.u8(RECORD.REGISTER);
  encodeVariable(out, {
    order: 9,
    serial: 9,
    id: 'var_y_9',
    name: 'y',
    spec: floatSpec,
    value: 0.5,
    constraints: {},
    metadata: Object.freeze({}),
    version: 0,
    createdAt: 1,
    lastUpdatedAt: 1,
    ...overrides,
  } as never);
};

const NONSENSE: ReadonlyArray<readonly [string, (out: ByteWriter) => void]> = [
  ['a write to a variable no order names', set(999, 1)],
  ['a write to a deleted variable', set(3, 1)],
  ['a write the variable refuses (above its max)', set(1, 5)],
  ['a numeric write to a string variable', set(2, 1)],
  [
    'a record write to a numeric variable',
    (out) => {
      out.u8(RECORD.SET_RECORD);
      out.f64(1);
      out.json('text');
    },
  ],
  [
    'a string write that is not a string',
    (out) => {
      out.u8(RECORD.SET_RECORD);
      out.f64(2);
      out.json(42);
    },
  ],
  ['a registration of a taken name', variable({ name: 'x', id: 'var_x_9' })],
  ['a registration with serial 0', variable({ serial: 0, id: 'var_y_0' })],
  ['a registration whose value breaks its bounds', variable({ value: 5, constraints: { min: 0, max: 1 } })],
  [
    'a batch that ends before its writes do',
    (out) => {
      out.u8(RECORD.BATCH_META);
      out.u32(2);
      out.json({ by: 'batch' });
      set(1, 0.5)(out);
    },
  ],
  [
    'metadata that is not an object',
    (out) => {
      out.u8(RECORD.METADATA);
      out.f64(1);
      out.json([1, 2]);
    },
  ],
  [
    'a delete of an order nobody has',
    (out) => {
      out.u8(RECORD.DELETE);
      out.f64(77);
    },
  ],
  ['an unknown record type', (out) => out.u8(200)],
  ['a record cut short inside its frame', (out) => out.u8(RECORD.SET)],
];

describe.each(BACKENDS)('records that pass their checksum but make no sense, on %s', (_label, Backend) => {
  it.each(NONSENSE)('%s: refused with corrupt_data naming the frame; repair keeps the state before it', async (_what, write) => {
    const { path, state } = await base(Backend);
    const offset = appendFrame(path, write);
    const error = (await Backend.init({ persist: persistOptions(path) }).catch((e: unknown) => e)) as StateError;
    expect(error.code).toBe('corrupt_data');
    expect(error.file).toBe('journal-00000001.lsj');
    expect(error.offset).toBe(offset);
    const report = await inspect(path);
    expect(report.damage?.offset).toBe(offset);
    expect(report.variables.map((v) => v.name)).toEqual(['x', 'label']);
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const repaired = await Backend.init({ persist: persistOptions(path, { repair: true }) });
      expect(fingerprint(repaired)).toBe(state);
      expect(repaired.persistence()?.recovery.repairs[0]).toMatchObject({ file: 'journal-00000001.lsj', offset });
      repaired.cleanup();
    } finally {
      emitted.mockRestore();
    }
    expect(readdirSync(path)).toContain('journal-00000001.lsj.broken');
  });
});

describe('the segment chain', () => {
  it('a gap between segments is refused naming the missing one; repair keeps what comes before it', async () => {
    const Backend = BACKENDS[0]?.[1] as Backend;
    const { path, state } = await base(Backend);
    // A copy of segment 1 posing as segment 3: segment 2 is missing.
    cpSync(join(path, 'journal-00000001.lsj'), join(path, 'journal-00000003.lsj'));
    const error = (await Backend.init({ persist: persistOptions(path) }).catch((e: unknown) => e)) as StateError;
    expect(error).toMatchObject({ code: 'corrupt_data', file: 'journal-00000002.lsj' });
    const emitted = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const repaired = await Backend.init({ persist: persistOptions(path, { repair: true }) });
      expect(fingerprint(repaired)).toBe(state);
      repaired.cleanup();
    } finally {
      emitted.mockRestore();
    }
    expect(readdirSync(path)).toContain('journal-00000003.lsj.broken');
  });

  it('a segment that says it is another one, or belongs to another store, is refused', async () => {
    const Backend = BACKENDS[1]?.[1] as Backend;
    const a = await base(Backend);
    const b = await base(Backend);
    // b's segment in a's directory: the right name, another store id.
    cpSync(join(b.path, 'journal-00000001.lsj'), join(a.path, 'journal-00000001.lsj'));
    expect(await Backend.init({ persist: persistOptions(a.path) }).catch((e: unknown) => e)).toMatchObject({
      code: 'corrupt_data',
      file: 'journal-00000001.lsj',
    });
    // a's own segment 1 under the name of segment 2.
    const c = await base(Backend);
    renameSync(join(c.path, 'journal-00000001.lsj'), join(c.path, 'journal-00000002.lsj'));
    writeFileSync(join(c.path, 'journal-00000001.lsj'), readFileSync(join(c.path, 'journal-00000002.lsj')));
    expect(await Backend.init({ persist: persistOptions(c.path) }).catch((e: unknown) => e)).toMatchObject({
      code: 'corrupt_data',
      file: 'journal-00000002.lsj',
    });
  });
});

describe.each(BACKENDS)('a compaction run in this process, on %s', (label, Backend) => {
  const job = (path: string) => ({
    dir: path,
    storeId: Buffer.from(readManifest(nodeFs, path).storeId).toString('hex'),
    sessionId: 'records',
    createdAt: readManifest(nodeFs, path).createdAt,
    snapshot: 0,
    firstSegment: 1,
    generation: 2,
    backend: label === 'LocalState' ? ('wasm' as const) : ('js' as const),
  });

  it('writes the snapshot, switches the manifest, removes what it supersedes; the directory reopens the same', async () => {
    const { path, state } = await base(Backend);
    const result = await compact(job(path), nodeFs);
    expect(result).toEqual({ bytes: expect.any(Number), variables: 2 });
    expect(readdirSync(path).filter((f) => f.endsWith('.lss') || f.endsWith('.lsj'))).toEqual(['snapshot-00000002.lss']);
    expect(readManifest(nodeFs, path)).toMatchObject({ snapshot: 2, firstSegment: 2 });
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(fingerprint(reopened)).toBe(state);
    reopened.cleanup();
  });

  it('cancelled before its commit, it leaves the directory as it was', async () => {
    const { path, state } = await base(Backend);
    const files = readdirSync(path).sort();
    const control = new Int32Array(new SharedArrayBuffer(4));
    // Cancelled while the snapshot is synced: after writing it, before the rename.
    const cancelling = {
      ...nodeFs,
      fsyncSync: (fd: number) => {
        Atomics.store(control, 0, CONTROL.FINISHED);
        nodeFs.fsyncSync(fd);
      },
    };
    expect(await compact(job(path), cancelling, control)).toBeUndefined();
    expect(readdirSync(path).sort()).toEqual(files);
    Atomics.store(control, 0, CONTROL.FINISHED);
    expect(await compact(job(path), nodeFs, control)).toBeUndefined();
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(fingerprint(reopened)).toBe(state);
    reopened.cleanup();
  });
});
