// Builds the contenders' stores with identical contents, so every case
// compares the same work.

import { JsLocalState, LocalState } from '../dist/index.js';

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
