import { describe, expect, it } from 'vitest';
import { LocalState, StateError } from '../dist/index.js';
import { type BackendOptions, codeOf } from './conformance/backend.js';
import { describeConformance } from './conformance/index.js';

describe('LocalState (wasm)', () => {
  describeConformance(
    Object.assign((options?: BackendOptions) => LocalState.init(options), {
      synchronousCalls: true,
      synchronousDelivery: true,
      capabilities: { atomicUpdates: true, streaming: true, persistent: false, distributed: false },
    }),
  );

  it('exports StateError as a class with a stable code', async () => {
    const s = await LocalState.init();
    try {
      s.getVariable('missing');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(StateError);
      expect(error).toBeInstanceOf(Error);
      expect((error as StateError).code).toBe('not_found');
      expect((error as StateError).name).toBe('StateError');
    }
  });

  it('reports its capabilities: atomic batches and streaming, in memory only', async () => {
    expect((await LocalState.init()).capabilities()).toEqual({
      atomicUpdates: true,
      streaming: true,
      persistent: false,
      distributed: false,
    });
  });

  it('refuses bad init options with invalid_argument', async () => {
    for (const options of [{ sessionId: '' }, { maxMemoryBytes: 1000 }, { maxMemoryBytes: -1 }, { initialCapacity: 1.5 }, { unknown: 1 }]) {
      await expect(LocalState.init(options as object)).rejects.toMatchObject({ code: 'invalid_argument' });
    }
  });

  it('hitting maxMemoryBytes throws out_of_memory with every earlier variable intact, and keeps working', async () => {
    const s = await LocalState.init({ maxMemoryBytes: 2 * 65536 });
    let registered = 0;
    let error: unknown;
    try {
      for (;;) {
        s.registerVariable(`v${registered}`, 'float', registered + 0.5, { constraints: { min: -1e9 } });
        registered++;
      }
    } catch (caught) {
      error = caught;
    }
    expect((error as StateError).code).toBe('out_of_memory');
    expect(registered).toBeGreaterThan(100);
    expect(await codeOf(() => s.getVariable(`v${registered}`))).toBe('not_found');
    for (let i = 0; i < registered; i++) expect(s.getVariable(`v${i}`)).toBe(i + 0.5);
    s.setVariable('v0', 42);
    expect(s.getVariable('v0')).toBe(42);
    // Strings do not live in the table, so they still register.
    s.registerVariable('note', 'string', 'still fine');
    for (let i = 0; i < 10; i++) s.deleteVariable(`v${i}`);
    for (let i = 0; i < 10; i++) s.registerVariable(`again${i}`, 'integer', i);
    expect(s.getVariable('again9')).toBe(9);
    expect(s.stats().wasmMemoryBytes).toBeLessThanOrEqual(2 * 65536);
  });

  it('a registration refused for memory uses up no id: the next id is the one it would have had', async () => {
    const full = await LocalState.init({ maxMemoryBytes: 65536 });
    const control = await LocalState.init();
    let n = 0;
    for (;;) {
      try {
        full.registerVariable(`v${n}`, 'float', 0);
      } catch {
        break;
      }
      control.registerVariable(`v${n}`, 'float', 0);
      n++;
    }
    expect(full.registerVariable('s', 'string', 'x')).toBe(control.registerVariable('s', 'string', 'x'));
    expect(full.listVariables().map((v) => v.name)).toEqual(control.listVariables().map((v) => v.name));
  });

  it('an import that would cross the memory cap fails as a whole', async () => {
    const source = await LocalState.init();
    for (let i = 0; i < 3000; i++) source.registerVariable(`v${i}`, 'float', i);
    const small = await LocalState.init({ maxMemoryBytes: 2 * 65536 });
    small.registerVariable('keep', 'float', 1);
    expect(await codeOf(() => small.importState(source.exportState()))).toBe('out_of_memory');
    expect(small.listVariables().map((v) => v.name)).toEqual(['keep']);
    expect(small.stats().variableCount).toBe(1);
  });

  it('gives each store its own table', async () => {
    const a = await LocalState.init();
    const b = await LocalState.init();
    a.registerVariable('x', 'float', 1);
    b.registerVariable('x', 'float', 2);
    expect([a.getVariable('x'), b.getVariable('x')]).toEqual([1, 2]);
  });

  it('initialCapacity reserves room so registering that many never rehashes', async () => {
    const s = await LocalState.init({ initialCapacity: 10_000 });
    const before = s.stats().tableRehashes;
    for (let i = 0; i < 10_000; i++) s.registerVariable(`v${i}`, 'integer', i);
    expect(s.stats().tableRehashes).toBe(before);
    expect(s.stats().tableEntries).toBe(10_000);
  });
});
