// The whole provider contract, run against persisted stores of both
// backends: persistence changes no rule. After every test, each store it
// made that is still open is closed and reopened from its directory, and must
// come back exactly as it was, so every conformance scenario is a recovery
// test too.

import { afterEach, describe, expect } from 'vitest';
import { JsLocalState, LocalState } from '../../dist/index.js';
import type { BackendOptions } from '../conformance/backend.js';
import { describeConformance } from '../conformance/index.js';
import { type AnyStore, type Backend, fingerprint, freshPath, noSyncFs, persistOptions, useFs } from './helpers.js';

interface Opened {
  readonly store: AnyStore;
  readonly Backend: Backend;
  readonly path: string;
  readonly maxMemoryBytes: number | undefined;
}

const opened: Opened[] = [];
useFs(noSyncFs);

afterEach(async () => {
  for (const { store, Backend, path, maxMemoryBytes } of opened.splice(0)) {
    let expected: string;
    try {
      expected = fingerprint(store);
    } catch {
      continue; // the test cleaned it up
    }
    store.cleanup();
    const reopened = await Backend.init({ persist: persistOptions(path), ...(maxMemoryBytes === undefined ? {} : { maxMemoryBytes }) });
    expect(fingerprint(reopened), `${Backend.name} at ${path} after recovery`).toBe(expected);
    reopened.cleanup();
  }
});

for (const Backend of [LocalState, JsLocalState]) {
  describe(`${Backend.name} with persist`, () => {
    describeConformance(
      Object.assign(
        async (options?: BackendOptions) => {
          const path = freshPath();
          const store = await Backend.init({ ...options, persist: persistOptions(path) });
          opened.push({ store, Backend, path, maxMemoryBytes: options?.maxMemoryBytes });
          return store;
        },
        {
          synchronousCalls: true,
          synchronousDelivery: true,
          capabilities: { atomicUpdates: true, streaming: true, persistent: true, distributed: false },
        },
      ),
    );
  });
}
