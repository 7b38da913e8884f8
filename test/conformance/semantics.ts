import { describe, expect, it } from 'vitest';
import type { VariableValue } from '../../dist/index.js';
import { type ConformanceFactory, codeOf, errorOf, itNeeds, observe, type Ref } from './backend.js';

export function semanticsTests(factory: ConformanceFactory): void {
  describe('versions, metadata and time', () => {
    it('version starts at 0 and goes up by exactly 1 per successful set', async () => {
      const s = await factory();
      for (const [name, type, value] of [
        ['f', 'float', 1],
        ['i', 'integer', 1],
        ['b', 'boolean', true],
        ['s', 'string', 'x'],
        ['e', 'embedding', [1]],
      ] as const) {
        await s.registerVariable(name, type, value);
        const ref = await s.ref(name);
        expect(await ref.version).toBe(0);
        for (let i = 1; i <= 5; i++) {
          await s.setVariable(name, value);
          expect(await ref.version).toBe(i);
        }
        await ref.set(value);
        expect((await s.listVariables()).find((v) => v.name === name)?.version).toBe(6);
      }
    });

    it('a failed set changes nothing: value, version, metadata, counters', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 1, { constraints: { min: 0, max: 2 }, metadata: { a: 1 } });
      await s.registerVariable('p', 'string', 'ok', { constraints: { maxLength: 3 } });
      await s.setVariable('t', 1.5);
      const before = await observe(s);
      expect(await codeOf(() => s.setVariable('t', 3, { a: 2 }))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('t', 'x', { a: 2 }))).toBe('invalid_value');
      expect(await codeOf(() => s.setVariable('t', 1, { bad: () => 1 } as Record<string, unknown>))).toBe('invalid_argument');
      expect(await codeOf(() => s.setVariable('p', 'toolong', { a: 2 }))).toBe('constraint_violation');
      expect(await codeOf(async () => (await s.ref('t')).set(-1))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('missing', 1))).toBe('not_found');
      // A failed ref() resolve counts nothing either; compare once more after reads would change totalOperations.
      expect(await observe(s)).toEqual(before);
    });

    it('a variable at version 2^53 - 1 refuses further writes rather than repeat a version', async () => {
      const s = await factory();
      const source = await factory();
      await source.registerVariable('f', 'float', 1);
      await source.registerVariable('p', 'string', 'a');
      const snap = JSON.parse(JSON.stringify(await source.exportState()));
      for (const variable of Object.values(snap.variables) as Array<{ version: number }>) variable.version = Number.MAX_SAFE_INTEGER - 1;
      await s.importState(snap);
      for (const [name, value] of [
        ['f', 2],
        ['p', 'b'],
      ] as const) {
        await s.setVariable(name, value);
        expect(await (await s.ref(name)).version).toBe(Number.MAX_SAFE_INTEGER);
        expect(await codeOf(() => s.setVariable(name, value))).toBe('constraint_violation');
        expect(await codeOf(() => s.updateVariables({ [name]: value }))).toBe('batch_failed');
        expect(await (await s.ref(name)).version).toBe(Number.MAX_SAFE_INTEGER);
      }
    });

    it('setVariable merges metadata shallowly', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 1, { description: 'temp', metadata: { owner: 'a', nested: { x: 1 } } });
      await s.setVariable('t', 1.1, { reason: 'step 3', nested: { y: 2 } });
      await s.setVariable('t', 1.2);
      expect((await s.listVariables())[0]?.metadata).toEqual({ owner: 'a', description: 'temp', reason: 'step 3', nested: { y: 2 } });
      await (await s.ref('t')).set(1.3, { __proto__: 'kept as data' } as unknown as Record<string, unknown>);
      const metadata = (await s.listVariables())[0]?.metadata as Record<string, unknown>;
      expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    });

    it('keeps a "__proto__" metadata key as data, never as a prototype', async () => {
      const s = await factory();
      const metadata = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
      await s.registerVariable('t', 'float', 1, { metadata });
      const stored = (await s.listVariables())[0]?.metadata as Record<string, unknown>;
      expect(Object.getOwnPropertyDescriptor(stored, '__proto__')?.value).toEqual({ polluted: true });
      expect((stored as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    });

    it('stamps createdAt and lastUpdatedAt in epoch milliseconds, and moves lastUpdatedAt on writes', async () => {
      const s = await factory();
      const before = Date.now();
      await s.registerVariable('t', 'float', 1);
      await s.registerVariable('p', 'string', 'a');
      const [t] = await s.listVariables();
      expect(t?.createdAt).toBeGreaterThanOrEqual(before - 2);
      expect(t?.createdAt).toBeLessThanOrEqual(Date.now() + 2);
      expect(t?.lastUpdatedAt).toBe(t?.createdAt);
      await new Promise((resolve) => setTimeout(resolve, 20));
      await s.setVariable('t', 2);
      await s.setVariable('p', 'b');
      for (const info of await s.listVariables()) {
        expect(info.lastUpdatedAt).toBeGreaterThanOrEqual(info.createdAt + 15);
        expect(info.lastUpdatedAt).toBeLessThanOrEqual(Date.now() + 2);
      }
    });

    it("a variable's lastUpdatedAt never steps back, even past an imported time ahead of the clock; timestamps are safe integers", async () => {
      const source = await factory();
      await source.registerVariable('f', 'float', 1);
      await source.registerVariable('s', 'string', 'a');
      const snapshot = JSON.parse(JSON.stringify(await source.exportState()));
      const ahead = Date.now() + 3_600_000;
      for (const variable of Object.values(snapshot.variables) as Array<{ lastUpdatedAt: number }>) variable.lastUpdatedAt = ahead;
      const s = await factory({ existingState: snapshot });
      await s.setVariable('f', 2);
      await s.updateVariables({ s: 'b' });
      await (await s.ref('f')).set(3);
      for (const info of await s.listVariables()) {
        expect(info.lastUpdatedAt).toBe(ahead);
        expect(info.lastUpdatedAt).toBeGreaterThanOrEqual(info.createdAt);
      }
      for (const bad of [1e20, -1, 1.5]) {
        const payload = JSON.parse(JSON.stringify(snapshot));
        (Object.values(payload.variables)[0] as { lastUpdatedAt: number }).lastUpdatedAt = bad;
        const t = await factory();
        expect(await codeOf(() => t.importState(payload))).toBe('invalid_export');
      }
    });

    it('never reuses a clock reading across an await', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 0);
      await s.setVariable('t', 1);
      const start = Date.now();
      while (Date.now() - start < 20) {
        // compute without writes or yields
      }
      await Promise.resolve(); // a microtask checkpoint, but no timer phase
      await s.setVariable('t', 2);
      expect((await s.listVariables())[0]?.lastUpdatedAt).toBeGreaterThanOrEqual(start + 20);
    });

    itNeeds(
      'synchronousCalls',
      factory,
      'refreshes the time within 1,024 writes even in a synchronous loop that starves timers',
      async () => {
        const s = await factory();
        await s.registerVariable('t', 'float', 0);
        // The writes below are not awaited: an await is a microtask checkpoint, which refreshes the clock by itself.
        const ref = (await s.ref('t')) as Ref<VariableValue, 'sync'>;
        const start = Date.now();
        while (Date.now() - start < 25) ref.set(1); // a busy loop: the 1 ms expiry timer cannot run
        for (let i = 0; i < 1100; i++) ref.set(2);
        const stamped = (await s.listVariables())[0]?.lastUpdatedAt ?? 0;
        expect(stamped).toBeGreaterThanOrEqual(start + 25);
      },
    );
  });

  describe('reads', () => {
    it('getVariables returns the values keyed as given (names or ids) and omits missing ones', async () => {
      const s = await factory();
      const id = await s.registerVariable('temperature', 'float', 0.9);
      await s.registerVariable('prompt', 'string', 'hi');
      expect(await s.getVariables(['temperature', 'missing', id, 'prompt'])).toEqual({ temperature: 0.9, [id]: 0.9, prompt: 'hi' });
      expect(await s.getVariables([])).toEqual({});
      expect(await codeOf(() => s.getVariables('temperature' as unknown as string[]))).toBe('invalid_argument');
      expect(await codeOf(() => s.getVariables([1 as unknown as string]))).toBe('invalid_argument');
    });

    it('getVariable of a missing identifier is not_found; a non-string identifier is invalid_argument', async () => {
      const s = await factory();
      const error = await errorOf(() => s.getVariable('nope'));
      expect(error.code).toBe('not_found');
      expect(error.message).toContain('nope');
      expect(await codeOf(() => s.getVariable(5 as unknown as string))).toBe('invalid_argument');
      expect(await codeOf(() => s.deleteVariable('nope'))).toBe('not_found');
      expect(await codeOf(() => s.ref('nope'))).toBe('not_found');
    });

    it('resolves an identifier as an id first, then as a name', async () => {
      const s = await factory();
      const idA = await s.registerVariable('a', 'integer', 1);
      // A second variable whose *name* is the first one's id.
      const idB = await s.registerVariable(idA, 'integer', 2);
      expect(await s.getVariable(idA)).toBe(1);
      expect(await s.getVariable(idB)).toBe(2);
      expect(await codeOf(() => s.registerVariable(idA, 'integer', 3))).toBe('already_exists');
      // Once the id's owner is gone, the name resolves again.
      await s.deleteVariable('a');
      expect(await s.getVariable(idA)).toBe(2);
      expect((await s.listVariables()).map((v) => v.name)).toEqual([idA]);
    });

    it('listVariables returns every variable with its fields, in registration order', async () => {
      const s = await factory();
      const names = ['z', 'a', '10', '2', 'm'];
      for (const name of names) await s.registerVariable(name, 'integer', 1);
      await s.deleteVariable('a');
      await s.registerVariable('a', 'integer', 2);
      const list = await s.listVariables();
      expect(list.map((v) => v.name)).toEqual(['z', '10', '2', 'm', 'a']);
      expect(Object.keys(list[0] ?? {}).sort()).toEqual(
        ['constraints', 'createdAt', 'id', 'lastUpdatedAt', 'metadata', 'name', 'type', 'value', 'version'].sort(),
      );
    });
  });

  describe('deletion, ids and refs', () => {
    it('a deleted name can be registered again with a new id; the old id and old refs stay not_found', async () => {
      const s = await factory();
      const oldId = await s.registerVariable('t', 'float', 1);
      const oldRef = await s.ref('t');
      await s.deleteVariable(oldId);
      expect(await codeOf(() => s.getVariable('t'))).toBe('not_found');
      const newId = await s.registerVariable('t', 'float', 2);
      expect(newId).not.toBe(oldId);
      expect(await codeOf(() => s.getVariable(oldId))).toBe('not_found');
      expect(await codeOf(() => oldRef.get())).toBe('not_found');
      expect(await codeOf(() => oldRef.set(3))).toBe('not_found');
      expect(await codeOf(() => oldRef.version)).toBe('not_found');
      expect(await s.getVariable('t')).toBe(2);
    });

    it('a stale ref never reads the variable that reused its slot', async () => {
      const s = await factory();
      await s.registerVariable('a', 'float', 1);
      const ref = await s.ref('a');
      await s.deleteVariable('a');
      for (let i = 0; i < 10; i++) await s.registerVariable(`b${i}`, 'float', 100 + i);
      expect(await codeOf(() => ref.get())).toBe('not_found');
    });

    it("a variable in a deleted one's slot lists and exports with its own id and metadata", async () => {
      const s = await factory();
      await s.registerVariable('a', 'float', 1, { metadata: { owner: 'a' } });
      expect((await s.listVariables()).map((v) => v.id)).toEqual(['var_a_1']);
      await s.deleteVariable('a');
      const id = await s.registerVariable('b', 'float', 2);
      const [listed] = await s.listVariables();
      expect([listed?.id, listed?.name, listed?.metadata]).toEqual([id, 'b', {}]);
      const exported = await s.exportState();
      expect(Object.keys(exported.variables)).toEqual([id]);
      expect(exported.variables[id]?.metadata).toEqual({});
    });

    it('never generates an id twice, across deletes', async () => {
      const s = await factory();
      const seen = new Set<string>();
      for (let round = 0; round < 50; round++) {
        const id = await s.registerVariable('x', 'integer', round);
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        await s.deleteVariable('x');
      }
    });

    it('ref resolves at once and reads and writes the current value', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 0.5, { constraints: { max: 1 } });
      await s.registerVariable('b', 'boolean', false);
      await s.registerVariable('p', 'string', 'a');
      const t = await s.ref('t');
      const b = await s.ref('b');
      const p = await s.ref((await s.listVariables())[2]?.id ?? '');
      expect([t.name, t.type, p.name, p.type]).toEqual(['t', 'float', 'p', 'string']);
      await t.set(0.8, { step: 1 });
      await b.set('true');
      await p.set('z');
      expect([await t.get(), await b.get(), await p.get()]).toEqual([0.8, true, 'z']);
      expect(await s.getVariable('t')).toBe(0.8);
      expect((await s.listVariables())[0]?.metadata).toEqual({ step: 1 });
      await s.setVariable('t', 0.1);
      expect(await t.get()).toBe(0.1);
      expect(await codeOf(() => t.set(2))).toBe('constraint_violation');
      expect(await codeOf(() => b.set(2))).toBe('invalid_value');
      expect(await t.get()).toBe(0.1);
    });

    it('refs and values survive table growth (many registrations after the ref was taken)', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 0.25);
      const t = await s.ref('t');
      for (let i = 0; i < 5000; i++) await s.registerVariable(`v${i}`, i % 3 === 0 ? 'boolean' : 'integer', i % 3 === 0 ? i % 2 : i);
      expect(await t.get()).toBe(0.25);
      await t.set(0.5);
      expect(await s.getVariable('t')).toBe(0.5);
      for (let i = 0; i < 5000; i += 97) expect(await s.getVariable(`v${i}`)).toBe(i % 3 === 0 ? i % 2 === 1 : i);
    });
  });

  describe('lifecycle and introspection', () => {
    it('after cleanup every call throws closed, refs included; cleanup is idempotent', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 1);
      await s.registerVariable('p', 'string', 'a');
      const t = await s.ref('t');
      const p = await s.ref('p');
      await s.cleanup();
      await s.cleanup();
      const calls: Array<() => unknown> = [
        () => s.getVariable('t'),
        () => s.setVariable('t', 2),
        () => s.getVariables(['t']),
        () => s.updateVariables({ t: 2 }),
        () => s.listVariables(),
        () => s.deleteVariable('t'),
        () => s.registerVariable('x', 'float', 1),
        () => s.exportState(),
        () => s.importState({}),
        () => s.stats(),
        () => s.capabilities(),
        () => s.requiresBridge(),
        () => s.ref('t'),
        () => t.get(),
        () => t.set(1),
        () => p.get(),
        () => p.set('b'),
      ];
      for (const call of calls) expect(await codeOf(call)).toBe('closed');
    });

    it('turns input whose getters throw into StateErrors, changing nothing', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 1);
      await s.registerVariable('e', 'embedding', [1, 2]);
      const before = await observe(s);
      const throwing = (what: object) =>
        Object.defineProperty(what, 'k', {
          enumerable: true,
          get() {
            throw new RangeError('a getter');
          },
        });
      expect(await codeOf(() => s.setVariable('t', 2, throwing({}) as Record<string, unknown>))).toBe('invalid_argument');
      expect(await codeOf(() => s.updateVariables(throwing({}) as Record<string, unknown>))).toBe('invalid_argument');
      const hostile = new Proxy([1, 2], {
        get(target, key, receiver) {
          if (key === '0') throw new RangeError('a trap');
          return Reflect.get(target, key, receiver);
        },
      });
      expect(await codeOf(() => s.setVariable('e', hostile))).toBe('invalid_value');
      expect(await observe(s)).toEqual(before);
    });

    it('reports capabilities and that it needs no bridge', async () => {
      const s = await factory();
      // Every backend has atomic batches and streaming; persistence and distribution are the backend's own.
      expect(s.capabilities()).toEqual({ ...factory.capabilities, atomicUpdates: true, streaming: true });
      expect(s.requiresBridge()).toBe(false);
    });

    it('counts variables, operations and updates as the origin does', async () => {
      const s = await factory();
      await s.registerVariable('x', 'integer', 1);
      await s.registerVariable('y', 'string', 'a');
      await s.getVariable('x');
      await s.getVariable('x');
      await s.setVariable('x', 2);
      await s.getVariables(['x', 'y', 'missing']);
      await s.updateVariables({ x: 3, y: 'b' });
      await (await s.ref('x')).get();
      await (await s.ref('x')).set(4);
      await expect(async () => s.setVariable('x', 'bad')).rejects.toThrow();
      const stats = await s.stats();
      expect(stats.variableCount).toBe(2);
      // 2 registers + 2 gets + 1 set + 3 batch reads + 2 batch writes + ref get + ref set
      expect(stats.totalOperations).toBe(12);
      expect(stats.totalUpdates).toBe(4);
      await s.deleteVariable('y');
      expect((await s.stats()).variableCount).toBe(1);
      expect((await s.stats()).totalOperations).toBe(13);
    });

    it('uses the sessionId given, or generates one', async () => {
      expect((await factory({ sessionId: 'run-1' })).sessionId).toBe('run-1');
      const a = await factory();
      const b = await factory();
      expect(a.sessionId).not.toBe(b.sessionId);
    });
  });
}
