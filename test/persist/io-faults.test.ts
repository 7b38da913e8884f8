// I/O faults, injected through the file-system seam: a failed write, a failed
// fsync (in the call or in the thread pool) and a full disk. Each must end in
// io_error; the store turns read-only (reads go on, every write is refused
// before it changes anything); nothing acknowledged is lost, and what the
// directory holds afterwards is a prefix of the writes. Acknowledged means:
// the call returned (fsync 'always'), or a flush() resolved (the other modes).

import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JsLocalState, type StateError } from '../../dist/index.js';
import { compact } from '../../dist/persist/compaction.js';
import { nodeFs, type PersistFs, setPersistFs } from '../../dist/persist/fs.js';
import { FLUSH_RECORDS } from '../../dist/persist/journal.js';
import { codeOf } from '../conformance/backend.js';
import { type AnyStore, BACKENDS, crashCopy, filesOf, fingerprint, freshPath, persistOptions } from './helpers.js';

type Fault = 'write' | 'short write, then disk full' | 'fsync';

/** node:fs, but the `after`-th matching call (counting from 1) of the kind fails, and every later one. */
function faultyFs(fault: Fault, after: number, files: RegExp = /\.lsj$/): PersistFs & { readonly hits: () => number } {
  const paths = new Map<number, string>();
  let count = 0;
  const failNow = (fd: number) => files.test(basename(paths.get(fd) ?? '')) && ++count >= after;
  const eio = () => Object.assign(new Error('EIO: i/o error (injected)'), { code: 'EIO' });
  return {
    ...nodeFs,
    hits: () => count,
    openSync: (path, flags) => {
      const fd = nodeFs.openSync(path, flags);
      paths.set(fd, path);
      return fd;
    },
    writeSync: (fd, buffer, offset, length, position) => {
      if (fault !== 'fsync' && failNow(fd)) {
        if (fault === 'write') throw eio();
        // A full disk takes what fits, then refuses the rest.
        const half = Math.max(1, length >> 1);
        return nodeFs.writeSync(fd, buffer, offset, half, position);
      }
      return nodeFs.writeSync(fd, buffer, offset, length, position);
    },
    fdatasyncSync: (fd) => {
      if (fault === 'fsync' && failNow(fd)) throw eio();
      nodeFs.fdatasyncSync(fd);
    },
    fsyncSync: (fd) => {
      if (fault === 'fsync' && failNow(fd)) throw eio();
      nodeFs.fsyncSync(fd);
    },
    fdatasync: (fd, callback) => {
      if (fault === 'fsync' && failNow(fd)) setImmediate(callback, eio());
      else nodeFs.fdatasync(fd, callback);
    },
  };
}

/** After a short write, the next write to the file is the one the full disk refuses. */
function diskFull(after: number): PersistFs {
  const inner = faultyFs('short write, then disk full', after);
  let refused = false;
  return {
    ...inner,
    writeSync: (fd, buffer, offset, length, position) => {
      if (refused) throw Object.assign(new Error('ENOSPC: no space left on device (injected)'), { code: 'ENOSPC' });
      const before = inner.hits();
      const n = inner.writeSync(fd, buffer, offset, length, position);
      if (inner.hits() > before && n < length) refused = true;
      return n;
    },
  };
}

async function withFs<T>(fs: PersistFs, run: () => Promise<T>): Promise<T> {
  setPersistFs(fs);
  try {
    return await run();
  } finally {
    setPersistFs(undefined);
  }
}

/** Every kind of write a read-only store must refuse, each checked to change nothing. */
async function expectReadOnly(store: AnyStore): Promise<void> {
  expect(store.getVariable('x')).toBeTypeOf('number'); // reads go on
  const before = fingerprint(store);
  const writes: Array<() => unknown> = [
    () => store.setVariable('x', 99),
    () => store.ref('x').set(98),
    () => store.setVariable('label', 'no'),
    () => store.updateVariables({ x: 97 }),
    () => store.registerVariable('new', 'float', 1),
    () => store.deleteVariable('x'),
    () => store.importState(emptySnapshot),
  ];
  for (const write of writes) expect(await codeOf(write)).toBe('io_error');
  expect(fingerprint(store)).toBe(before);
  await expect(store.flush()).rejects.toMatchObject({ code: 'io_error' });
}

const emptySnapshot = { format: 'localstate', formatVersion: 1, sessionId: 's', variables: {}, variableIndex: {} };

describe.each(BACKENDS)('I/O faults on %s', (_label, Backend) => {
  const open = (path: string, fsync: 'always' | 'everysec' | 'no') => Backend.init({ persist: persistOptions(path, { fsync }) });

  it.each(['write', 'short write, then disk full', 'fsync'] as const)(
    "fsync 'always': a failed %s fails the call that made the write, with io_error; nothing acknowledged is lost",
    async (fault) => {
      const path = freshPath();
      // The 5th write or sync of the segment: the first is its header, when the store is created.
      const fs = fault === 'short write, then disk full' ? diskFull(5) : faultyFs(fault, 5);
      const { store, acknowledged, failing } = await withFs(fs, async () => {
        const store = await open(path, 'always');
        store.registerVariable('x', 'float', 0); // 2nd
        store.registerVariable('label', 'string', 'a'); // 3rd
        store.setVariable('x', 1); // 4th
        const acknowledged = fingerprint(store);
        const error = (() => {
          try {
            store.setVariable('x', 2); // 5th: fails
            return undefined;
          } catch (caught) {
            return caught as StateError;
          }
        })();
        const failing = fingerprint(store); // the failed call's write is in memory, not acknowledged
        expect(error?.code).toBe('io_error');
        expect(error?.message).toContain('read-only');
        await expectReadOnly(store);
        expect(store.persistence()?.failure).toContain('read-only');
        return { store, acknowledged, failing };
      });
      expect(() => store.cleanup()).toThrow(expect.objectContaining({ code: 'io_error' }));
      const reopened = await open(path, 'always');
      // The failed write is there or not (an fsync that failed may still have reached the disk): a prefix either way.
      expect([acknowledged, failing]).toContain(fingerprint(reopened));
      if (fault !== 'fsync') expect(fingerprint(reopened)).toBe(acknowledged);
      reopened.cleanup();
    },
  );

  it.each(['everysec', 'no'] as const)(
    "fsync '%s': a failed hand-off at the end of a stretch turns the store read-only; what flush() acknowledged stays",
    async (fsync) => {
      for (const fault of ['write', 'short write, then disk full'] as const) {
        const path = freshPath();
        // The 3rd write: the header, the first frame, then the one that fails.
        const fs = fault === 'write' ? faultyFs('write', 3) : diskFull(3);
        const { acknowledged } = await withFs(fs, async () => {
          const store = await open(path, fsync);
          store.registerVariable('x', 'float', 0);
          store.registerVariable('label', 'string', 'a');
          await store.flush(); // the 1st frame: acknowledged
          const acknowledged = fingerprint(store);
          store.setVariable('x', 1);
          await Promise.resolve(); // the 2nd frame's hand-off fails in its microtask
          await expectReadOnly(store);
          expect(() => store.cleanup()).toThrow(expect.objectContaining({ code: 'io_error' }));
          return { acknowledged };
        });
        const reopened = await open(path, fsync);
        expect(fingerprint(reopened)).toBe(acknowledged);
        reopened.cleanup();
      }
    },
  );

  it("fsync 'everysec': a failed fdatasync in the thread pool rejects flush() and turns the store read-only", async () => {
    const path = freshPath();
    // The 3rd sync of the segment: when it is created, at the first flush, then the one that fails.
    const acknowledged = await withFs(faultyFs('fsync', 3), async () => {
      const store = await open(path, 'everysec');
      store.registerVariable('x', 'float', 0);
      store.registerVariable('label', 'string', 'a');
      await store.flush();
      const acknowledged = fingerprint(store);
      store.setVariable('x', 1);
      await expect(store.flush()).rejects.toMatchObject({ code: 'io_error' });
      await expectReadOnly(store);
      expect(() => store.cleanup()).toThrow(expect.objectContaining({ code: 'io_error' }));
      return acknowledged;
    });
    const reopened = await open(path, 'everysec');
    const state = fingerprint(reopened);
    // Never retried as if it had succeeded: the write may be in the file (the OS had it), but nothing else is.
    expect(state === acknowledged || reopened.getVariable('x') === 1).toBe(true);
    reopened.cleanup();
  });

  it('a failure inside a long stretch (at the hand-off bound) throws io_error from the write that hit it', async () => {
    const path = freshPath();
    // The 2nd write, after the header: the hand-off at FLUSH_RECORDS records.
    await withFs(faultyFs('write', 2), async () => {
      const store = await open(path, 'everysec');
      store.registerVariable('x', 'integer', 0);
      store.registerVariable('label', 'string', 'a');
      let thrown: StateError | undefined;
      for (let i = 1; i <= 2 * FLUSH_RECORDS && thrown === undefined; i++) {
        try {
          store.setVariable('x', i);
        } catch (error) {
          thrown = error as StateError;
        }
      }
      expect(thrown?.code).toBe('io_error');
      await expectReadOnly(store);
      expect(() => store.cleanup()).toThrow(expect.objectContaining({ code: 'io_error' }));
    });
    const reopened = await open(path, 'everysec');
    expect(reopened.listVariables()).toEqual([]); // nothing reached the file; nothing was acknowledged
    reopened.cleanup();
  });

  it('a failed compaction loses nothing: the manifest keeps naming the old files, the temp file goes', async () => {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path, { compaction: { minBytes: 2 ** 40 } }) });
    store.registerVariable('x', 'float', 1);
    store.registerVariable('label', 'string', 'kept');
    await store.flush();
    const expected = fingerprint(store);
    const copy = crashCopy(path);
    store.cleanup();
    const files = filesOf(copy);
    for (const fault of ['write', 'fsync'] as const) {
      const job = {
        dir: copy,
        storeId: '',
        sessionId: store.sessionId,
        createdAt: 0,
        snapshot: 0,
        firstSegment: 1,
        generation: 2,
        backend: Backend === JsLocalState ? ('js' as const) : ('wasm' as const),
      };
      // The store id is in the manifest: read it the way the journal would hand it to the worker.
      const manifest = await import('../../dist/persist/manifest.js');
      const storeId = Buffer.from(manifest.readManifest(nodeFs, copy).storeId).toString('hex');
      // There is no segment 2 (the journal starts it before compacting); the worker compacts segment 1 alone.
      await expect(compact({ ...job, storeId }, faultyFs(fault, 1, /\.lss\./))).rejects.toMatchObject({ code: 'io_error' });
      expect(filesOf(copy)).toEqual(files);
    }
    const reopened = await Backend.init({ persist: persistOptions(copy) });
    expect(fingerprint(reopened)).toBe(expected);
    reopened.cleanup();
  });
});
