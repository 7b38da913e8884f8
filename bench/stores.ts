// Builds the contenders' stores with identical contents, so every case
// compares the same work.

import { JsLocalState, LocalState, type VariableType, type VariableValue } from '../dist/index.js';

export interface Stores {
  readonly wasm: LocalState;
  readonly js: JsLocalState;
  readonly map: Map<string, number>;
  readonly names: readonly string[];
}

export const nameOf = (i: number): string => `param_${i}`;

/** `n` float variables with min 0 / max 2 in each store and in a Map<string, number>. */
export async function floatStores(n: number): Promise<Stores> {
  const wasm = await LocalState.init({ initialCapacity: n });
  const js = await JsLocalState.init();
  const map = new Map<string, number>();
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = nameOf(i);
    const value = (i % 1000) / 1000;
    wasm.registerVariable(name, 'float', value, { constraints: { min: 0, max: 2 } });
    js.registerVariable(name, 'float', value, { constraints: { min: 0, max: 2 } });
    map.set(name, value);
    names.push(name);
  }
  return { wasm, js, map, names };
}

/** A fixed pseudo-random sample of `size` names (a power of two), so reads spread over the whole store. */
export function sampleNames(names: readonly string[], size: number, random: () => number): string[] {
  return Array.from({ length: size }, () => names[Math.floor(random() * names.length)] as string);
}

/** Dimensions of the mixed store's embedding: enough to be a vector, few enough that copying it does not drown the store's own work. */
export const EMBEDDING_DIMENSIONS = 16;

interface MixedVariable {
  readonly name: string;
  readonly type: VariableType;
  readonly value: VariableValue;
  readonly constraints?: Readonly<Record<string, unknown>>;
}

/** The 7-variable DSPy-style program: one variable of each type a prompt program tunes. */
export const MIXED: readonly MixedVariable[] = [
  { name: 'temperature', type: 'float', value: 0.7, constraints: { min: 0, max: 2 } },
  { name: 'max_tokens', type: 'integer', value: 256, constraints: { min: 16, max: 4096 } },
  { name: 'use_cot', type: 'boolean', value: false },
  { name: 'instruction', type: 'string', value: 'Answer the question.', constraints: { maxLength: 200 } },
  { name: 'strategy', type: 'choice', value: 'predict', constraints: { choices: ['predict', 'chain_of_thought', 'react'] } },
  { name: 'module', type: 'module', value: 'Predict', constraints: { allowedModules: ['Predict', 'ChainOfThought', 'ReAct'] } },
  {
    name: 'embedding',
    type: 'embedding',
    value: Object.freeze(Array.from({ length: EMBEDDING_DIMENSIONS }, (_, i) => Math.round(Math.sin(i + 1) * 1000) / 1000)),
    constraints: { dimensions: EMBEDDING_DIMENSIONS },
  },
];

export const MIXED_NAMES: readonly string[] = MIXED.map((v) => v.name);

/** The mixed store's initial values as a plain object: the expected answers, and the peers' starting state. */
export function mixedValues(): Record<string, VariableValue> {
  return Object.fromEntries(MIXED.map((v) => [v.name, v.value]));
}

/** A store of `Backend` holding the mixed variables, registered in the same order with the same rules. */
export async function mixedStore<S extends LocalState | JsLocalState>(Backend: { init(): Promise<S> }): Promise<S> {
  const store = await Backend.init();
  for (const v of MIXED) store.registerVariable(v.name, v.type, v.value, v.constraints ? { constraints: v.constraints } : {});
  return store;
}

/** The same mixed store for each backend. */
export async function mixedStores(): Promise<{ readonly wasm: LocalState; readonly js: JsLocalState }> {
  return { wasm: await mixedStore(LocalState), js: await mixedStore(JsLocalState) };
}
