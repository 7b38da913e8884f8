import { describe, expect, it } from 'vitest';
import { type ConformanceFactory, codeOf, errorOf, observe } from './backend.js';

export function batchTests(factory: ConformanceFactory): void {
  describe('updateVariables (atomic)', () => {
    async function seeded() {
      const s = await factory();
      await s.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
      await s.registerVariable('top_k', 'integer', 40, { constraints: { min: 1 } });
      await s.registerVariable('prompt', 'string', 'hi', { constraints: { maxLength: 10 } });
      await s.registerVariable('flag', 'boolean', false);
      return s;
    }

    it('applies every update, with the batch metadata, when all are valid', async () => {
      const s = await seeded();
      await s.updateVariables({ temperature: 1.0, top_k: 41, prompt: 'hello', flag: 'true' }, { by: 'optimizer' });
      expect(await s.getVariables(['temperature', 'top_k', 'prompt', 'flag'])).toEqual({
        temperature: 1,
        top_k: 41,
        prompt: 'hello',
        flag: true,
      });
      for (const info of await s.listVariables()) {
        expect(info.version).toBe(1);
        expect(info.metadata).toEqual({ by: 'optimizer' });
      }
    });

    it('accepts a Map, and ids as keys', async () => {
      const s = await seeded();
      const id = (await s.listVariables())[1]?.id ?? '';
      await s.updateVariables(
        new Map<string, unknown>([
          ['temperature', 1.5],
          [id, 7],
        ]),
      );
      expect(await s.getVariables(['temperature', 'top_k'])).toEqual({ temperature: 1.5, top_k: 7 });
    });

    it('changes nothing when any item fails, and reports each failing identifier as given', async () => {
      const s = await seeded();
      const before = await observe(s);
      const error = await errorOf(() =>
        s.updateVariables({ temperature: 1.9, top_k: 0, prompt: 'this is far too long', missing: 1, flag: true }),
      );
      expect(error.code).toBe('batch_failed');
      expect(Object.getPrototypeOf(error.errors)).toBe(null);
      expect(Object.keys(error.errors ?? {})).toEqual(['top_k', 'prompt', 'missing']);
      expect(error.errors?.top_k?.code).toBe('constraint_violation');
      expect(error.errors?.prompt?.code).toBe('constraint_violation');
      expect(error.errors?.missing?.code).toBe('not_found');
      expect(error.errors?.top_k?.message).toContain('top_k');
      expect(await observe(s)).toEqual(before);
    });

    it('reports a "__proto__" identifier as an own key of the errors object', async () => {
      const s = await seeded();
      const error = await errorOf(() => s.updateVariables(JSON.parse('{"__proto__": 1, "temperature": 5}')));
      expect(Object.keys(error.errors ?? {})).toEqual(['__proto__', 'temperature']);
      expect(error.errors?.temperature?.code).toBe('constraint_violation');
    });

    it('refuses updates that are not an object or a Map, and bad batch metadata, with invalid_argument', async () => {
      const s = await seeded();
      const before = await observe(s);
      for (const bad of [null, 5, 'x', [['temperature', 1]]]) {
        expect(await codeOf(() => s.updateVariables(bad as unknown as Record<string, unknown>))).toBe('invalid_argument');
      }
      expect(await codeOf(() => s.updateVariables(new Map<unknown, unknown>([[1, 1]]) as Map<string, unknown>))).toBe('invalid_argument');
      expect(await codeOf(() => s.updateVariables({ temperature: 1 }, { f: () => 1 } as Record<string, unknown>))).toBe('invalid_argument');
      expect(await observe(s)).toEqual(before);
    });

    it('a batch of more than 2^20 items is refused as a whole with invalid_argument', async () => {
      const s = await seeded();
      const before = await observe(s);
      const huge = new Map<string, unknown>([['temperature', 1]]);
      for (let i = 0; huge.size <= 2 ** 20; i++) huge.set(`x${i}`, i);
      const error = await errorOf(() => s.updateVariables(huge));
      expect(error.code).toBe('invalid_argument');
      expect(error.message).toContain('1048576');
      expect(await observe(s)).toEqual(before);
    });

    it('an empty batch is a no-op', async () => {
      const s = await seeded();
      const before = await observe(s);
      await s.updateVariables({});
      expect(await observe(s)).toEqual(before);
    });
  });
}
