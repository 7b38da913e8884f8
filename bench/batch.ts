// Batches of 100: getVariables against a loop of Map.get into an object, and
// the atomic updateVariables of both backends.

import { do_not_optimize } from 'mitata';
import { assertEqual, type Case } from './harness.js';
import { floatStores } from './stores.js';

const BATCH = 100;

export async function getVariablesCase(): Promise<Case> {
  const { wasm, js, map, names } = await floatStores(1000);
  const batch = names.slice(0, BATCH);
  const mapLoop = () => {
    const out: Record<string, number> = {};
    for (const name of batch) {
      const value = map.get(name);
      if (value !== undefined) out[name] = value;
    }
    return out;
  };
  const expected = mapLoop();
  return {
    id: 'get-variables-100',
    title: 'getVariables of 100 names',
    perItem: BATCH,
    contenders: [
      {
        label: 'wasm LocalState',
        fn: () => do_not_optimize(wasm.getVariables(batch)),
        check: () => assertEqual(wasm.getVariables(batch), expected, 'wasm getVariables'),
      },
      {
        label: 'pure-JS JsLocalState',
        fn: () => do_not_optimize(js.getVariables(batch)),
        check: () => assertEqual(js.getVariables(batch), expected, 'js getVariables'),
      },
      {
        label: 'loop of Map.get into an object',
        fn: () => do_not_optimize(mapLoop()),
        check: () => assertEqual(mapLoop(), expected, 'map loop'),
      },
    ],
    targets: [{ subject: 'wasm LocalState', baseline: 'loop of Map.get into an object', max: 1.5 }],
  };
}

export async function updateVariablesCase(): Promise<Case> {
  const { wasm, js, names } = await floatStores(1000);
  const batch = names.slice(0, BATCH);
  // Two alternating update objects, so every batch really changes the values.
  const updates = [0.25, 1.75].map((base) => Object.fromEntries(batch.map((name, i) => [name, base + i / 1000])));
  let a = 0;
  let b = 0;
  const check = (store: typeof wasm | typeof js) => () => {
    const before = store.ref(batch[0] as string).version;
    store.updateVariables(updates[1] as Record<string, number>);
    assertEqual(store.getVariables(batch), updates[1], 'batch applied');
    assertEqual(store.ref(batch[0] as string).version, before + 1, 'version bump');
  };
  return {
    id: 'update-variables-100',
    title: 'updateVariables of 100 (atomic: validate all, then apply)',
    perItem: BATCH,
    contenders: [
      { label: 'wasm LocalState', fn: () => wasm.updateVariables(updates[(a = a ^ 1)] as Record<string, number>), check: check(wasm) },
      { label: 'pure-JS JsLocalState', fn: () => js.updateVariables(updates[(b = b ^ 1)] as Record<string, number>), check: check(js) },
    ],
    targets: [{ subject: 'wasm LocalState', baseline: 'pure-JS JsLocalState', max: 1 }],
  };
}
