// Memory exhaustion for LocalState: with a low maxMemoryBytes the wasm table
// runs out of room. test/local-state.test.ts checks the basics (out_of_memory
// with earlier values intact, a string still registers, a capped import
// fails); this file checks that everything else keeps working at the cap and
// that the cap is exact and stable: versions, metadata, refs, batches, deletes
// freeing exactly their room, and imports at the boundary.

import { describe, expect, it } from 'vitest';
import { LocalState, StateError, type VariableInfo, type VariableRef } from '../dist/index.js';
import { codeOf, errorOf, observe } from './conformance/backend.js';

const PAGE = 65_536;
const CAP = PAGE; // one wasm page: a few hundred numeric variables

const TYPES = ['float', 'integer', 'boolean'] as const;

/** The i-th numeric variable: a mix of types, bounds and values, so "intact" means something. */
function spec(i: number): { name: string; type: (typeof TYPES)[number]; value: number | boolean; constraints: Record<string, number> } {
  const type = TYPES[i % 3] as (typeof TYPES)[number];
  if (type === 'float') return { name: `f${i}`, type, value: i === 12 ? -0 : i + 0.25, constraints: { min: -1e6, max: 1e6 } };
  if (type === 'integer') return { name: `i${i}`, type, value: -i, constraints: { min: -1e6 } };
  return { name: `b${i}`, type, value: i % 2 === 0, constraints: {} };
}

/** A store at its cap: registers numeric variables (some set a few times) until out_of_memory. */
async function filled(maxMemoryBytes = CAP) {
  const s = await LocalState.init({ maxMemoryBytes });
  const names: string[] = [];
  let error: unknown;
  for (let i = 0; ; i++) {
    const { name, type, value, constraints } = spec(i);
    try {
      s.registerVariable(name, type, value, { constraints, metadata: { i } });
    } catch (caught) {
      error = caught;
      break;
    }
    names.push(name);
    // Some history, so versions and metadata differ from variable to variable.
    for (let k = 0; k < i % 4; k++) s.setVariable(name, type === 'boolean' ? k % 2 === 0 : type === 'integer' ? -i - k : i + k, { k });
    if (i > 100_000) throw new Error('the cap was never reached');
  }
  return { s, names, error };
}

/** name → its listing, for "intact" comparisons. */
const byName = (list: readonly VariableInfo[]) => new Map(list.map((v) => [v.name, v]));

describe('LocalState at maxMemoryBytes', () => {
  it('the failed registration is out_of_memory and changes nothing, however often it is retried', async () => {
    const { s, names, error } = await filled();
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).code).toBe('out_of_memory');
    expect((error as StateError).rule).toBe('maxMemoryBytes');
    expect((error as StateError).message).toContain('maxMemoryBytes');
    expect(names.length).toBeGreaterThan(100);
    const before = await observe(s);
    for (const type of TYPES) {
      expect(await codeOf(() => s.registerVariable('one_more', type, type === 'boolean' ? true : 1))).toBe('out_of_memory');
    }
    expect(await codeOf(() => s.getVariable('one_more'))).toBe('not_found');
    expect(await observe(s)).toEqual(before);
    expect(s.stats().wasmMemoryBytes).toBeLessThanOrEqual(CAP);
  });

  it('keeps every earlier variable intact: value (-0 included), version, metadata, constraints, times', async () => {
    const { s, names } = await filled();
    // Registration order is kept, and every field matches what was written.
    const list = s.listVariables();
    expect(list.map((v) => v.name)).toEqual(names);
    names.forEach((name, i) => {
      const info = list[i] as VariableInfo;
      const { type, constraints } = spec(i);
      expect(info.type).toBe(type);
      expect(info.version).toBe(i % 4);
      expect(info.constraints).toEqual(constraints);
      expect(info.metadata).toEqual(i % 4 === 0 ? { i } : { i, k: (i % 4) - 1 });
      expect(info.lastUpdatedAt).toBeGreaterThanOrEqual(info.createdAt);
      const expected =
        i % 4 === 0
          ? spec(i).value
          : type === 'boolean'
            ? ((i % 4) - 1) % 2 === 0
            : type === 'integer'
              ? -i - (i % 4) + 1
              : i + (i % 4) - 1;
      expect(Object.is(s.getVariable(name), expected), `${name}`).toBe(true);
    });
    expect(Object.is(s.getVariable('f12'), -0)).toBe(true);
  });

  it('gets, sets, batches and refs keep working; rule failures stay rule failures', async () => {
    const { s, names } = await filled();
    const refs = names.slice(0, 30).map((name) => s.ref(name));
    const before = byName(s.listVariables());
    // Plain sets.
    s.setVariable('f0', 42.5, { after: 'oom' });
    expect(s.getVariable('f0')).toBe(42.5);
    expect(s.ref('f0').version).toBe((before.get('f0')?.version ?? 0) + 1);
    // Refs taken before and after the cap.
    const f6 = refs[6] as VariableRef;
    f6.set(-7.5);
    expect(f6.get()).toBe(-7.5);
    const late = s.ref<number>('i4');
    late.set(-123);
    expect(late.get()).toBe(-123);
    expect(late.version).toBe((before.get('i4')?.version ?? 0) + 1);
    // Constraint and type failures are reported as such, not as out_of_memory, and change nothing.
    const snapshot = await observe(s);
    expect(await codeOf(() => s.setVariable('f0', 2e6))).toBe('constraint_violation');
    expect(await codeOf(() => s.setVariable('i1', 1.5))).toBe('invalid_value');
    expect(await codeOf(() => s.setVariable('b2', 2))).toBe('invalid_value');
    expect(await observe(s)).toEqual(snapshot);
    // A batch over every variable applies as a whole...
    const updates: Record<string, number | boolean> = {};
    for (const [i, name] of names.entries()) updates[name] = spec(i).type === 'boolean' ? true : spec(i).type === 'integer' ? i : i / 2;
    s.updateVariables(updates, { batch: 1 });
    for (const name of names) expect(s.getVariable(name)).toBe(updates[name]);
    expect(s.listVariables().every((v) => v.metadata.batch === 1)).toBe(true);
    // ...and a batch with one bad item changes nothing.
    const afterBatch = await observe(s);
    const error = await errorOf(() => s.updateVariables({ ...updates, [names[names.length - 1] as string]: 'bad', f0: 1 }));
    expect(error.code).toBe('batch_failed');
    expect(await observe(s)).toEqual(afterBatch);
    // getVariables across all of them.
    expect(Object.keys(s.getVariables(names))).toHaveLength(names.length);
  });

  it('deletes free exactly their room: k deletes allow k registrations, and the next one is out_of_memory again', async () => {
    const { s, names } = await filled();
    const memory = s.stats().wasmMemoryBytes;
    const rehashes = s.stats().tableRehashes;
    const survivor = s.ref<number>('f0');
    const deleted = s.ref('i1');
    for (const k of [1, 10, 57]) {
      const victims = names.splice(1, k);
      for (const name of victims) s.deleteVariable(name);
      for (const name of victims) expect(await codeOf(() => s.getVariable(name))).toBe('not_found');
      for (let j = 0; j < k; j++) {
        const name = `again_${k}_${j}`;
        s.registerVariable(name, TYPES[j % 3] as (typeof TYPES)[number], j % 2);
        names.push(name);
      }
      expect(await codeOf(() => s.registerVariable(`over_${k}`, 'float', 1))).toBe('out_of_memory');
    }
    // Refs: the deleted one stays not_found, even though its slot was reused; the survivor reads its own value.
    expect(await codeOf(() => deleted.get())).toBe('not_found');
    expect(survivor.get()).toBe(spec(0).value);
    for (const [j, name] of names.slice(-57).entries()) expect(s.getVariable(name)).toBe(j % 3 === 2 ? j % 2 === 1 : j % 2);
    // Churn never grows memory or rehashes: the room a delete frees is reused.
    expect(s.stats().wasmMemoryBytes).toBe(memory);
    expect(s.stats().tableRehashes).toBe(rehashes);
    expect(s.stats().variableCount).toBe(names.length);
  });

  it('register/delete churn at the cap never fails and never grows memory', async () => {
    const { s, names } = await filled();
    const memory = s.stats().wasmMemoryBytes;
    const half = names.slice(0, Math.floor(names.length / 2));
    for (let round = 0; round < 20; round++) {
      for (const name of half) s.deleteVariable(name);
      for (const [i, name] of half.entries()) s.registerVariable(name, 'integer', round * 1000 + i);
    }
    for (const [i, name] of half.entries()) expect(s.getVariable(name)).toBe(19_000 + i);
    expect(s.stats().wasmMemoryBytes).toBe(memory);
    expect(await codeOf(() => s.registerVariable('one_more', 'float', 1))).toBe('out_of_memory');
  });

  it('values held in JavaScript still register at the cap: strings, embeddings, tensors', async () => {
    const { s } = await filled();
    s.registerVariable('e', 'embedding', [1, 2, 3]);
    s.registerVariable('t', 'tensor', { shape: [1], data: [1] });
    s.registerVariable('c', 'choice', 'a', { constraints: { choices: ['a'] } });
    expect(s.getVariable('e')).toEqual([1, 2, 3]);
    expect(await codeOf(() => s.registerVariable('n', 'integer', 1))).toBe('out_of_memory');
  });

  it('an init whose initialCapacity does not fit is out_of_memory', async () => {
    await expect(LocalState.init({ maxMemoryBytes: CAP, initialCapacity: 100_000 })).rejects.toMatchObject({ code: 'out_of_memory' });
    const s = await LocalState.init({ maxMemoryBytes: CAP, initialCapacity: 100 });
    expect(s.stats().wasmMemoryBytes).toBeLessThanOrEqual(CAP);
  });
});

describe('importState against maxMemoryBytes', () => {
  /** How many numeric variables fit under the cap (from an empty store). */
  async function room(): Promise<number> {
    return (await filled()).names.length;
  }

  /** A target under the cap with history: variables set a few times, a ref taken. */
  async function target() {
    const s = await LocalState.init({ maxMemoryBytes: CAP, sessionId: 'target' });
    s.registerVariable('keep', 'float', 0.5, { constraints: { min: 0, max: 1 } });
    s.registerVariable('count', 'integer', 0);
    s.registerVariable('note', 'string', 'held in JavaScript');
    for (let i = 1; i <= 3; i++) s.updateVariables({ keep: i / 10, count: i }, { step: i });
    return s;
  }

  /** A payload of `numeric` numeric variables and a few JavaScript-held ones. */
  async function payload(numeric: number): Promise<unknown> {
    const source = await LocalState.init({ sessionId: 'source' });
    for (let i = 0; i < numeric; i++) {
      const { name, type, value, constraints } = spec(i);
      source.registerVariable(`p_${name}`, type, value, { constraints });
    }
    source.registerVariable('p_text', 'string', 'x');
    source.registerVariable('p_vec', 'embedding', [1, 2]);
    source.setVariable('p_text', 'y');
    return JSON.parse(JSON.stringify(source.exportState()));
  }

  it('one numeric variable too many fails as a whole with out_of_memory, nothing imported; one fewer fits exactly', async () => {
    const fits = (await room()) - 2; // the target holds two numeric variables
    const s = await target();
    const twin = await target();
    const ref = s.ref<number>('keep');
    const before = await observe(s);
    const tooMany = await payload(fits + 1);
    const error = await errorOf(() => s.importState(tooMany));
    expect(error.code).toBe('out_of_memory');
    expect(await observe(s)).toEqual(before); // list and stats, table figures included
    expect(await codeOf(() => s.getVariable('p_text'))).toBe('not_found'); // not even the JavaScript-held ones
    // The store still works, and the failed import left no hidden trace (the next id is what it would have been).
    ref.set(0.9);
    expect(s.getVariable('keep')).toBe(0.9);
    twin.setVariable('keep', 0.9);
    expect(s.registerVariable('next', 'string', 'x')).toBe(twin.registerVariable('next', 'string', 'x'));
    s.deleteVariable('next');
    // One numeric variable fewer: exactly at the cap.
    s.importState(await payload(fits));
    expect(s.stats().variableCount).toBe(2 + 1 + fits + 2);
    expect(s.stats().wasmMemoryBytes).toBeLessThanOrEqual(CAP);
    expect(await codeOf(() => s.registerVariable('one_more', 'boolean', true))).toBe('out_of_memory');
  });

  it('the same import succeeds into a store with a bigger cap, and matches the source exactly', async () => {
    const tooMany = await payload((await room()) + 50);
    const small = await target();
    expect(await codeOf(() => small.importState(tooMany))).toBe('out_of_memory');
    await expect(LocalState.init({ maxMemoryBytes: CAP, existingState: tooMany })).rejects.toMatchObject({ code: 'out_of_memory' });
    for (const maxMemoryBytes of [4 * PAGE, undefined]) {
      const big = await LocalState.init(maxMemoryBytes === undefined ? {} : { maxMemoryBytes });
      big.registerVariable('keep', 'float', 0.5);
      big.importState(tooMany);
      const source = await LocalState.init({ existingState: tooMany });
      expect(big.listVariables().slice(1)).toEqual(source.listVariables());
      if (maxMemoryBytes !== undefined) expect(big.stats().wasmMemoryBytes).toBeLessThanOrEqual(maxMemoryBytes);
    }
  });

  it('a capped import after deletes uses the freed room', async () => {
    const fits = await room();
    const s = await LocalState.init({ maxMemoryBytes: CAP });
    for (let i = 0; i < fits; i++) s.registerVariable(`v${i}`, 'integer', i);
    const tenMore = await payload(10);
    expect(await codeOf(() => s.importState(tenMore))).toBe('out_of_memory');
    for (let i = 0; i < 9; i++) s.deleteVariable(`v${i}`);
    expect(await codeOf(() => s.importState(tenMore))).toBe('out_of_memory');
    s.deleteVariable('v9');
    s.importState(tenMore);
    expect(s.stats().variableCount).toBe(fits - 10 + 12);
    expect(s.getVariable('p_f0')).toBe(0.25);
  });
});
