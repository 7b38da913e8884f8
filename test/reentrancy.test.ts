// A write reads its input, and reading it can run the caller's code: a getter
// in a tensor's data or in metadata, a Proxy. That code may delete or replace
// the very variable being written. Such a write is refused with
// invalid_argument (rule "reentrancy") and applies nothing: it never lands on a
// freed or reused slot, and a persisted store never journals a write to a
// variable that is gone (which would leave a directory that cannot reopen).
// The caller code's own writes stand: they were committed calls.

import { describe, expect, it } from 'vitest';
import { StateError, type VariableValue } from '../dist/index.js';
import { BACKENDS, type Backend, fingerprint, freshPath, persistOptions } from './persist/helpers.js';

function refusal(run: () => unknown): StateError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(StateError);
    return error as StateError;
  }
  throw new Error('expected the call to throw');
}

/** A one-element tensor whose data getter runs `sideEffect` once. */
function tensorWith(sideEffect: () => void): VariableValue {
  let ran = false;
  return {
    shape: [1],
    get data() {
      if (!ran) {
        ran = true;
        sideEffect();
      }
      return [1];
    },
  } as unknown as VariableValue;
}

describe.each(BACKENDS)('%s: a write whose input changes the store while it is read', (_label, Backend: Backend) => {
  for (const persisted of [false, true]) {
    const mode = persisted ? 'persisted' : 'in memory';
    const open = async (path: string) => Backend.init(persisted ? { sessionId: 'reentrancy', persist: persistOptions(path) } : {});

    /** Runs `scenario`, then (persisted) reopens the directory and expects the same state. */
    const check = async (scenario: (store: Awaited<ReturnType<typeof open>>) => void) => {
      const path = freshPath();
      const store = await open(path);
      scenario(store);
      const state = fingerprint(store);
      store.cleanup();
      if (!persisted) return;
      const reopened = await open(path);
      expect(fingerprint(reopened)).toBe(state);
      reopened.cleanup();
    };

    it(`${mode}: updateVariables is refused when a getter deletes an item's variable and registers another in its place`, async () => {
      await check((store) => {
        store.registerVariable('n', 'float', 1);
        store.registerVariable('t', 'tensor', { shape: [1], data: [0] });
        const error = refusal(() =>
          store.updateVariables({
            n: 5.5,
            t: tensorWith(() => {
              store.deleteVariable('n');
              store.registerVariable('m', 'integer', 1, { constraints: { max: 2 } });
            }),
          }),
        );
        expect([error.code, error.rule]).toEqual(['invalid_argument', 'reentrancy']);
        // The getter's own calls committed; the batch applied nothing.
        expect(store.listVariables().map((v) => [v.name, v.value, v.version])).toEqual([
          ['t', { shape: [1], data: [0] }, 0],
          ['m', 1, 0],
        ]);
      });
    });

    it(`${mode}: updateVariables is refused when a getter writes to the store`, async () => {
      await check((store) => {
        store.registerVariable('n', 'float', 1);
        store.registerVariable('t', 'tensor', { shape: [1], data: [0] });
        const error = refusal(() =>
          store.updateVariables({ n: 2, t: tensorWith(() => store.setVariable('n', 3)) }, undefined, { ifVersions: { n: 0 } }),
        );
        expect(error.rule).toBe('reentrancy');
        expect([store.getVariable('n'), store.listVariables()[0]?.version]).toEqual([3, 1]);
      });
    });

    it(`${mode}: setVariable of a record is refused when its value's getter deletes it`, async () => {
      await check((store) => {
        store.registerVariable('t', 'tensor', { shape: [1], data: [0] });
        const error = refusal(() =>
          store.setVariable(
            't',
            tensorWith(() => store.deleteVariable('t')),
          ),
        );
        expect(error.rule).toBe('reentrancy');
        expect(store.listVariables()).toEqual([]);
      });
    });

    it(`${mode}: setVariable of a number is refused when a metadata getter replaces the variable`, async () => {
      await check((store) => {
        store.registerVariable('n', 'float', 1);
        const metadata = {
          get by() {
            store.deleteVariable('n');
            store.registerVariable('k', 'integer', 7);
            return 'worker';
          },
        };
        const error = refusal(() => store.setVariable('n', 0.5, metadata));
        expect(error.rule).toBe('reentrancy');
        expect(store.listVariables().map((v) => [v.name, v.value, v.version, v.metadata])).toEqual([['k', 7, 0, {}]]);
      });
    });

    it(`${mode}: registerVariable is refused when a getter of its initial value registers the same name`, async () => {
      await check((store) => {
        const error = refusal(() =>
          store.registerVariable(
            'x',
            'tensor',
            tensorWith(() => store.registerVariable('x', 'float', 1)),
          ),
        );
        expect(error.rule).toBe('reentrancy');
        expect(store.listVariables().map((v) => [v.name, v.type, v.value])).toEqual([['x', 'float', 1]]);
      });
    });
  }
});
