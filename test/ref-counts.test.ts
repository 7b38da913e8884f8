// Every read through a ref is an operation in stats(). LocalState's numeric
// refs count their reads on themselves (one field beside the value they
// return) and the store adds them up when the total is read: these tests hold
// that sum exact across deleted variables, many refs, and a persisted store's
// clean close and reopen.

import { describe, expect, it } from 'vitest';
import { BACKENDS, type Backend, crashCopy, freshPath, persistOptions } from './persist/helpers.js';

describe.each(BACKENDS)('%s: reads through refs in totalOperations', (_label, Backend: Backend) => {
  /** A persisted store in a fresh directory, with a float 't' and a ref to it. */
  async function persistedWithRef() {
    const path = freshPath();
    const store = await Backend.init({ persist: persistOptions(path) });
    store.registerVariable('t', 'float', 0.5);
    return { path, store, ref: store.ref<number>('t') };
  }

  it('counts each read once, however often stats() adds them up', async () => {
    const store = await Backend.init();
    store.registerVariable('t', 'float', 0.5);
    store.registerVariable('b', 'boolean', true);
    const base = store.stats().totalOperations;
    const t = store.ref<number>('t');
    const b = store.ref<boolean>('b');
    for (let i = 0; i < 10; i++) t.get();
    expect(store.stats().totalOperations).toBe(base + 10);
    expect(store.stats().totalOperations).toBe(base + 10);
    b.get();
    t.set(0.25); // a write, then a read that boxes the new value
    t.get();
    expect(store.stats().totalOperations).toBe(base + 13);
  });

  it("keeps a deleted variable's ref reads", async () => {
    const store = await Backend.init();
    store.registerVariable('gone', 'integer', 3);
    store.registerVariable('kept', 'integer', 4);
    const base = store.stats().totalOperations;
    const gone = store.ref('gone');
    gone.get();
    gone.get();
    store.deleteVariable('gone'); // one operation
    // The freed slot is reused, and its new ref counts from zero.
    store.registerVariable('new', 'integer', 5); // one operation
    store.ref('new').get();
    store.ref('kept').get();
    expect(store.stats().totalOperations).toBe(base + 6);
  });

  it('journals the reads of a persisted store with its writes: an exit without cleanup keeps them', async () => {
    const { path, store, ref } = await persistedWithRef();
    for (let i = 0; i < 1000; i++) ref.get();
    await new Promise((resolve) => setTimeout(resolve, 5)); // the clock moves on
    store.setVariable('t', 0.25); // its clock record carries the count
    const total = store.stats().totalOperations;
    await store.flush();
    // Abandoned, as a process that exits without cleanup() leaves it: the files are what recovery sees.
    const copy = crashCopy(path);
    store.cleanup();
    const recovered = await Backend.init({ persist: persistOptions(copy) });
    expect(recovered.stats().totalOperations).toBe(total);
    recovered.cleanup();
  });

  it('journals the reads: a clean close and reopen keeps the total', async () => {
    const { path, store, ref } = await persistedWithRef();
    for (let i = 0; i < 25; i++) ref.get();
    const total = store.stats().totalOperations;
    for (let i = 0; i < 5; i++) ref.get(); // read after the last stats(), before the close
    store.cleanup();
    const reopened = await Backend.init({ persist: persistOptions(path) });
    expect(reopened.stats().totalOperations).toBe(total + 5);
    reopened.cleanup();
  });
});
