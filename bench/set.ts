// Writes: by name and through a ref, each validated (float, min 0 / max 2),
// versioned and timestamped, against the plain container writes.

import { do_not_optimize } from 'mitata';
import { assertEqual, type Case } from './harness.js';
import { floatStores } from './stores.js';

/** A value in [0, 2) that changes every call, so no write is a no-op the JIT could skip. */
const valueFor = (i: number): number => (i & 1023) / 512;

export async function setByNameCase(): Promise<Case> {
  const NAMES = 64;
  const { wasm, js, map, names } = await floatStores(NAMES);
  let a = 0;
  let b = 0;
  let c = 0;
  const check = (set: (name: string, v: number) => void, get: (name: string) => unknown, version?: (name: string) => number) => () => {
    const name = names[5] as string;
    const before = version?.(name) ?? 0;
    set(name, 1.25);
    assertEqual(get(name), 1.25, `set ${name}`);
    if (version) assertEqual(version(name), before + 1, 'version bump');
  };
  return {
    id: 'set-by-name',
    title: 'setVariable by name, float with min/max, version bump',
    contenders: [
      {
        label: 'wasm LocalState',
        fn: () => {
          a++;
          wasm.setVariable(names[a & 63] as string, valueFor(a));
        },
        check: check(
          (n, v) => wasm.setVariable(n, v),
          (n) => wasm.getVariable(n),
          (n) => wasm.ref(n).version,
        ),
      },
      {
        label: 'pure-JS JsLocalState',
        fn: () => {
          b++;
          js.setVariable(names[b & 63] as string, valueFor(b));
        },
        check: check(
          (n, v) => js.setVariable(n, v),
          (n) => js.getVariable(n),
          (n) => js.ref(n).version,
        ),
      },
      {
        label: 'Map.set',
        fn: () => {
          c++;
          do_not_optimize(map.set(names[c & 63] as string, valueFor(c)));
        },
        check: check(
          (n, v) => map.set(n, v),
          (n) => map.get(n),
        ),
      },
    ],
    targets: [
      { subject: 'wasm LocalState', baseline: 'Map.set', max: 2.5 },
      { subject: 'wasm LocalState', baseline: 'pure-JS JsLocalState', max: 1 },
    ],
  };
}

/**
 * The least a ref's write can be: set() stores the number into a Float64Array slot, with no check,
 * version, time or count. Not a target: it shows what a method call costs over the bare write.
 */
class BareSlot {
  constructor(
    private readonly array: Float64Array,
    private readonly at: number,
  ) {}
  set(v: number): void {
    this.array[this.at] = v;
  }
}

export async function setByRefCase(): Promise<Case> {
  const REFS = 64;
  const { wasm, js, names } = await floatStores(REFS);
  const wasmRefs = names.map((name) => wasm.ref<number>(name));
  const jsRefs = names.map((name) => js.ref<number>(name));
  const array = new Float64Array(REFS);
  const slots = new Float64Array(REFS);
  const bare = Array.from({ length: REFS }, (_, i) => new BareSlot(slots, i));
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const check = (ref: { set(v: number): void; get(): number; version: number } | undefined) => () => {
    if (!ref) throw new Error('no ref');
    const before = ref.version;
    ref.set(0.75);
    assertEqual(ref.get(), 0.75, 'ref set');
    assertEqual(ref.version, before + 1, 'version bump');
  };
  return {
    id: 'set-by-ref',
    title: 'set through a ref (validated, versioned, timestamped)',
    contenders: [
      {
        label: 'wasm ref.set',
        fn: () => {
          a++;
          (wasmRefs[a & 63] as { set(v: number): void }).set(valueFor(a));
        },
        check: check(wasmRefs[3]),
      },
      {
        label: 'pure-JS ref.set',
        fn: () => {
          b++;
          (jsRefs[b & 63] as { set(v: number): void }).set(valueFor(b));
        },
        check: check(jsRefs[3]),
      },
      {
        label: 'Float64Array[i] = v',
        fn: () => {
          c++;
          array[c & 63] = valueFor(c);
        },
        check: () => {
          array[3] = 0.75;
          assertEqual(array[3], 0.75, 'typed array write');
        },
      },
      {
        label: 'bare object set() (floor)',
        fn: () => {
          d++;
          (bare[d & 63] as BareSlot).set(valueFor(d));
        },
        check: () => {
          (bare[3] as BareSlot).set(0.75);
          assertEqual(slots[3], 0.75, 'bare slot write');
        },
      },
    ],
    note: 'bare object set(): a class whose set() stores into a Float64Array slot, with no check, version, time or count; the floor of any ref object here, not a target',
    targets: [{ subject: 'wasm ref.set', baseline: 'Float64Array[i] = v', max: 6 }],
  };
}
