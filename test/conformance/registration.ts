import { describe, expect, it } from 'vitest';
import { type ConformanceFactory, codeOf, errorOf } from './backend.js';

export function registrationTests(factory: ConformanceFactory): void {
  describe('registration', () => {
    it('returns a generated id var_<name>_<n>; the variable resolves by name and by id', async () => {
      const s = await factory();
      const id = await s.registerVariable('temperature', 'float', 0.7);
      expect(id).toMatch(/^var_temperature_\d+$/);
      expect(await s.getVariable('temperature')).toBe(0.7);
      expect(await s.getVariable(id)).toBe(0.7);
      expect(await s.registerVariable('top_k', 'integer', 40)).not.toBe(id);
    });

    it('a name equal to another variable’s id: the id wins, the name answers again once the id is gone', async () => {
      for (const type of ['float', 'string'] as const) {
        for (const deleteFirst of ['owner', 'namesake'] as const) {
          const s = await factory();
          const id = await s.registerVariable('a', type, type === 'float' ? 1.5 : 'a');
          // Named like `a`'s id: registered (names and ids are separate), but the id resolves first.
          const namesakeId = await s.registerVariable(id, 'integer', 7);
          expect(await s.getVariable(id)).toBe(type === 'float' ? 1.5 : 'a');
          expect(await s.getVariable(namesakeId)).toBe(7);
          await s.setVariable(id, type === 'float' ? 2.5 : 'b');
          expect(await s.getVariables(['a', id])).toEqual({ a: type === 'float' ? 2.5 : 'b', [id]: type === 'float' ? 2.5 : 'b' });
          expect((await s.listVariables()).map((v) => v.name)).toEqual(['a', id]);
          if (deleteFirst === 'owner') {
            await s.deleteVariable('a');
            expect(await s.getVariable(id)).toBe(7); // the name is no longer hidden
            expect((await s.listVariables()).map((v) => v.name)).toEqual([id]);
          } else {
            await s.deleteVariable(namesakeId);
            expect(await s.getVariable(id)).toBe(type === 'float' ? 2.5 : 'b');
            expect((await s.listVariables()).map((v) => v.name)).toEqual(['a']);
            await s.deleteVariable(id);
            expect(await codeOf(() => s.getVariable(id))).toBe('not_found');
            expect(await s.listVariables()).toEqual([]);
          }
        }
      }
    });

    it('refuses names that are not non-empty strings with invalid_argument', async () => {
      const s = await factory();
      for (const bad of ['', 1, null, undefined, {}, Symbol('x')]) {
        expect(await codeOf(() => s.registerVariable(bad as string, 'float', 1))).toBe('invalid_argument');
      }
      expect(await s.listVariables()).toEqual([]);
    });

    it('accepts any string as a name, __proto__ and constructor included, without polluting prototypes', async () => {
      const s = await factory();
      for (const name of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', 'a b/c.d', '名前', '👍🏽']) {
        await s.registerVariable(name, 'integer', name.length);
        expect(await s.getVariable(name)).toBe(name.length);
      }
      const got = await s.getVariables(['__proto__', 'constructor']);
      expect(Object.getPrototypeOf(got)).toBe(Object.prototype);
      expect(Object.keys(got)).toEqual(['__proto__', 'constructor']);
      expect(Object.getOwnPropertyDescriptor(got, '__proto__')?.value).toBe(9);
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
      expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    });

    it('refuses a taken name with already_exists and keeps the original', async () => {
      const s = await factory();
      await s.registerVariable('duplicate', 'string', 'first');
      expect(await codeOf(() => s.registerVariable('duplicate', 'string', 'second'))).toBe('already_exists');
      expect(await codeOf(() => s.registerVariable('duplicate', 'float', 1))).toBe('already_exists');
      expect(await s.getVariable('duplicate')).toBe('first');
    });

    it('refuses an unknown type with unknown_type', async () => {
      const s = await factory();
      expect(await codeOf(() => s.registerVariable('x', 'double' as 'float', 1))).toBe('unknown_type');
      expect(await codeOf(() => s.registerVariable('x', undefined as unknown as 'float', 1))).toBe('unknown_type');
      expect(await s.listVariables()).toEqual([]);
    });

    it('validates constraints before the value: a typo is invalid_argument even when the value is bad too', async () => {
      const s = await factory();
      const error = await errorOf(() => s.registerVariable('prompt', 'string', 42, { constraints: { maxLenght: 3 } }));
      expect(error.code).toBe('invalid_argument');
      expect(error.message).toContain('prompt');
      expect(error.message).toContain('maxLenght');
      expect(await codeOf(() => s.registerVariable('t', 'float', 'bad', { constraints: { min: 2, max: 1 } }))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'float', 1, { constraints: { min: '0' } }))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'float', 1, { constraints: { min: Number.NaN } }))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'boolean', true, { constraints: { min: 0 } }))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'string', 'a', { constraints: { minLength: 3, maxLength: 2 } }))).toBe(
        'invalid_argument',
      );
      expect(await codeOf(() => s.registerVariable('t', 'string', 'a', { constraints: { enum: 'a' } }))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'choice', 'a', {}))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'embedding', [1], { constraints: { dimensions: -1 } }))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'tensor', { shape: [1], data: [1] }, { constraints: { shape: [1.5] } }))).toBe(
        'invalid_argument',
      );
      expect(await codeOf(() => s.registerVariable('t', 'float', 1, { constraints: 5 as unknown as Record<string, unknown> }))).toBe(
        'invalid_argument',
      );
      expect(await s.listVariables()).toEqual([]);
    });

    it('then checks the initial value like any write: invalid_value before constraint_violation', async () => {
      const s = await factory();
      expect(await codeOf(() => s.registerVariable('t', 'float', '0.5', { constraints: { max: 0 } }))).toBe('invalid_value');
      const error = await errorOf(() => s.registerVariable('temperature', 'float', 3, { constraints: { min: 0, max: 2 } }));
      expect(error.code).toBe('constraint_violation');
      expect(error.message).toContain('temperature');
      expect(error.message).toContain('max');
      expect(error.message).toContain('3');
      expect(await s.listVariables()).toEqual([]);
    });

    it('refuses unknown options and a non-string description', async () => {
      const s = await factory();
      expect(await codeOf(() => s.registerVariable('t', 'float', 1, { constraint: {} } as object))).toBe('invalid_argument');
      expect(await codeOf(() => s.registerVariable('t', 'float', 1, { description: 5 as unknown as string }))).toBe('invalid_argument');
    });

    it('stores description as metadata.description beside the metadata given', async () => {
      const s = await factory();
      await s.registerVariable('temperature', 'float', 0.7, {
        constraints: { min: 0, max: 2 },
        description: 'sampling temperature',
        metadata: { owner: 'tuner', tags: ['a', 'b'], nested: { deep: [1, { x: null }] } },
      });
      const [info] = await s.listVariables();
      expect(info?.metadata).toEqual({
        owner: 'tuner',
        tags: ['a', 'b'],
        nested: { deep: [1, { x: null }] },
        description: 'sampling temperature',
      });
      expect(info?.constraints).toEqual({ min: 0, max: 2 });
    });

    it('refuses metadata that is not plain JSON data with invalid_argument', async () => {
      const s = await factory();
      const cycle: Record<string, unknown> = {};
      cycle.self = cycle;
      const bad: unknown[] = [
        { f: () => 1 },
        { s: Symbol('x') },
        { b: 1n },
        cycle,
        { d: new Date() },
        { m: new Map() },
        { n: Number.NaN },
        { u: undefined },
        [1, 2],
        'text',
        { [Symbol('k')]: 1 },
      ];
      for (const metadata of bad) {
        expect(await codeOf(() => s.registerVariable('t', 'float', 1, { metadata: metadata as Record<string, unknown> }))).toBe(
          'invalid_argument',
        );
      }
      expect(await s.listVariables()).toEqual([]);
    });

    it('copies metadata in: changing the object given afterwards changes nothing', async () => {
      const s = await factory();
      const metadata = { owner: 'tuner', list: [1, 2] };
      await s.registerVariable('t', 'float', 1, { metadata });
      metadata.owner = 'changed';
      metadata.list.push(3);
      expect((await s.listVariables())[0]?.metadata).toEqual({ owner: 'tuner', list: [1, 2] });
    });
  });
}
