// Reads: by name, through a ref, and how read latency scales with store size.
//
// Each measured call reads 64 variables and sums them, as an optimizer loop
// uses what it reads; the time is reported per read. Returning each double
// through do_not_optimize instead would box it in a fresh HeapNumber, a cost
// of how the harness consumes the value (the Map baseline hands out numbers
// that are already boxed), not of the store.

import { do_not_optimize } from 'mitata';
import { assertEqual, type Case, mulberry32 } from './harness.js';
import { floatStores, sampleNames } from './stores.js';

/** Reads per measured call. */
export const READS = 64;
// A power of two (`i & MASK` cycles through it), large enough that reads at 100k–1M variables miss the cache as real ones do.
const SAMPLE = 65_536;

type Reader = (name: string) => number;

/** A measured function: READS reads at computed positions of `names`, summed. */
function reads(names: readonly string[], read: Reader): () => void {
  const mask = names.length - 1;
  let at = 0;
  return () => {
    let sum = 0;
    for (let k = 0; k < READS; k++) {
      at = (at + 1) & mask;
      sum += read(names[at] as string);
    }
    do_not_optimize(sum);
  };
}

export async function getByNameCase(n: number): Promise<Case> {
  const { wasm, js, map, names } = await floatStores(n);
  const sample = sampleNames(names, SAMPLE, mulberry32(n));
  const check = (read: Reader) => () => {
    for (const name of sample.slice(0, 64)) assertEqual(read(name), map.get(name), `get ${name}`);
  };
  const wasmRead: Reader = (name) => wasm.getVariable(name) as number;
  const jsRead: Reader = (name) => js.getVariable(name) as number;
  const mapRead: Reader = (name) => map.get(name) as number;
  return {
    id: `get-by-name-${n}`,
    title: `getVariable by name, float, ${n.toLocaleString()} variables, reads spread over the store`,
    perItem: READS,
    contenders: [
      { label: 'wasm LocalState', fn: reads(sample, wasmRead), check: check(wasmRead) },
      { label: 'pure-JS JsLocalState', fn: reads(sample, jsRead), check: check(jsRead) },
      { label: 'Map<string, number>.get', fn: reads(sample, mapRead), check: check(mapRead) },
    ],
    targets: [{ subject: 'wasm LocalState', baseline: 'Map<string, number>.get', max: 1.5 }],
  };
}

/**
 * The least a ref object can be: get() returns a field, with no liveness check and no count. Not a
 * target: it shows what the harness charges any ref API on top of a typed-array read.
 */
class BareRef {
  constructor(private readonly v: number) {}
  get(): number {
    return this.v;
  }
}

export async function getByRefCase(): Promise<Case> {
  const { wasm, js, names } = await floatStores(READS);
  const wasmRefs = names.map((name) => wasm.ref<number>(name));
  const jsRefs = names.map((name) => js.ref<number>(name));
  const array = new Float64Array(names.map((name) => wasm.getVariable(name) as number));
  const bareRefs = Array.from(array, (v) => new BareRef(v));
  const sumOf = (read: (i: number) => number) => () => {
    let sum = 0;
    for (let i = 0; i < READS; i++) sum += read(i);
    do_not_optimize(sum);
  };
  const wasmRead = (i: number) => (wasmRefs[i] as { get(): number }).get();
  const jsRead = (i: number) => (jsRefs[i] as { get(): number }).get();
  const arrayRead = (i: number) => array[i] as number;
  const bareRead = (i: number) => (bareRefs[i] as BareRef).get();
  const check = (read: (i: number) => number) => () => {
    for (let i = 0; i < READS; i++) assertEqual(read(i), array[i], `ref ${i}`);
  };
  return {
    id: 'get-by-ref',
    title: 'get through a ref (64 refs)',
    perItem: READS,
    contenders: [
      { label: 'wasm ref.get', fn: sumOf(wasmRead), check: check(wasmRead) },
      { label: 'pure-JS ref.get', fn: sumOf(jsRead), check: check(jsRead) },
      { label: 'Float64Array[i]', fn: sumOf(arrayRead), check: check(arrayRead) },
      { label: 'bare object get() (floor)', fn: sumOf(bareRead), check: check(bareRead) },
    ],
    note: 'bare object get(): a class whose get() returns a field, with no check and no count; the floor of any ref object here, not a target',
    targets: [{ subject: 'wasm ref.get', baseline: 'Float64Array[i]', max: 2 }],
  };
}

/**
 * Read latency at 1M variables against 100. The target case reads the same 64 hot names in both
 * stores (does the store itself slow down with size?); a second, report-only case spreads reads
 * over the whole store, where cache misses in the name Map dominate (as they do for a bare Map).
 */
export async function getScalingCases(): Promise<[Case, Case]> {
  const small = await floatStores(100);
  const large = await floatStores(1_000_000);
  const hotSmall = sampleNames(small.names, READS, mulberry32(7));
  const hotLarge = sampleNames(large.names, READS, mulberry32(7));
  const spreadSmall = sampleNames(small.names, SAMPLE, mulberry32(9));
  const spreadLarge = sampleNames(large.names, SAMPLE, mulberry32(9));
  const readSmall: Reader = (name) => small.wasm.getVariable(name) as number;
  const readLarge: Reader = (name) => large.wasm.getVariable(name) as number;
  const check = (store: typeof small, names: readonly string[], read: Reader) => () => {
    for (const name of names.slice(0, 16)) assertEqual(read(name), store.map.get(name), `get ${name}`);
  };
  const mapSmall: Reader = (name) => small.map.get(name) as number;
  const mapLarge: Reader = (name) => large.map.get(name) as number;
  return [
    {
      id: 'get-scaling-hot',
      title: 'getVariable, 64 hot names, in a store of 1,000,000 against one of 100 (wasm)',
      perItem: READS,
      contenders: [
        { label: 'wasm at 100', fn: reads(hotSmall, readSmall), check: check(small, hotSmall, readSmall) },
        { label: 'wasm at 1M', fn: reads(hotLarge, readLarge), check: check(large, hotLarge, readLarge) },
      ],
      targets: [{ subject: 'wasm at 1M', baseline: 'wasm at 100', max: 2 }],
    },
    {
      id: 'get-scaling-spread',
      title: 'getVariable, reads spread over all names, 1,000,000 against 100 (wasm, and a bare Map for scale)',
      perItem: READS,
      contenders: [
        { label: 'wasm at 100', fn: reads(spreadSmall, readSmall), check: check(small, spreadSmall, readSmall) },
        { label: 'wasm at 1M', fn: reads(spreadLarge, readLarge), check: check(large, spreadLarge, readLarge) },
        { label: 'Map at 100', fn: reads(spreadSmall, mapSmall), check: check(small, spreadSmall, mapSmall) },
        { label: 'Map at 1M', fn: reads(spreadLarge, mapLarge), check: check(large, spreadLarge, mapLarge) },
      ],
      targets: [],
      note: 'report only: at 1M the name Map misses the cache on most reads, whichever store holds the values',
    },
  ];
}
