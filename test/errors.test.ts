// A batch makes its item errors without stacks (they never reach a caller);
// the error a caller does get keeps its stack, and the process's
// Error.stackTraceLimit is left as it was, whatever happens in the batch.

import { afterEach, describe, expect, it } from 'vitest';
import { JsLocalState, LocalState, StateError } from '../dist/index.js';

const backends = [
  ['LocalState', () => LocalState.init()],
  ['JsLocalState', () => JsLocalState.init()],
] as const;

function caught(run: () => unknown): StateError {
  try {
    run();
  } catch (error) {
    if (error instanceof StateError) return error;
    throw error;
  }
  throw new Error('expected a StateError');
}

const limitBefore = Error.stackTraceLimit;
afterEach(() => {
  Error.stackTraceLimit = limitBefore;
});

describe.each(backends)('%s: errors of a refused batch', (_, init) => {
  it("batch_failed carries the caller's stack, and the limit is restored", async () => {
    const store = await init();
    store.registerVariable('t', 'float', 1, { constraints: { min: 0, max: 2 } });
    store.registerVariable('k', 'integer', 1);
    const error = caught(function refusedBatchCaller() {
      store.updateVariables({ t: 3, k: 1.5 });
    });
    expect(error.code).toBe('batch_failed');
    expect(Object.keys(error.errors ?? {})).toEqual(['t', 'k']);
    expect(error.stack).toContain('refusedBatchCaller');
    expect(Error.stackTraceLimit).toBe(limitBefore);
    // Errors made after the batch have stacks again.
    expect(caught(() => store.setVariable('t', 3)).stack).toContain('errors.test');
  });

  it("keeps the stack of a StateError the caller's own code makes while a batch reads its input", async () => {
    const store = await init();
    const other = await init();
    store.registerVariable('t', 'tensor', { shape: [1], data: [0] });
    let seen: StateError | undefined;
    const value = {
      shape: [1],
      get data(): number[] {
        seen = caught(function callersGetter() {
          other.getVariable('nope');
        });
        return [1];
      },
    };
    store.updateVariables({ t: value });
    expect(seen?.code).toBe('not_found');
    expect(seen?.stack).toContain('callersGetter');
    // The batch's own item errors after the getter are still made (and reported) as before.
    expect(caught(() => store.updateVariables({ t: value, missing: 1 })).errors?.missing?.code).toBe('not_found');
  });

  it('leaves the limit as it was when reading the updates throws', async () => {
    const store = await init();
    store.registerVariable('t', 'float', 1);
    const updates = {
      get t(): number {
        throw new Error('getter');
      },
    };
    expect(caught(() => store.updateVariables(updates)).code).toBe('invalid_argument');
    expect(Error.stackTraceLimit).toBe(limitBefore);
  });

  it('still refuses a batch when Error.stackTraceLimit cannot be written (frozen intrinsics)', async () => {
    const store = await init();
    store.registerVariable('t', 'float', 1, { constraints: { max: 2 } });
    const descriptor = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit');
    Object.defineProperty(Error, 'stackTraceLimit', { value: 7, writable: false, configurable: true });
    try {
      expect(caught(() => store.updateVariables({ t: 3 })).code).toBe('batch_failed');
      expect(Error.stackTraceLimit).toBe(7);
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', descriptor as PropertyDescriptor);
    }
  });
});
