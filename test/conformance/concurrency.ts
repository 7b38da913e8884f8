// Optimistic concurrency: setVariable(…, { ifVersion }) and
// updateVariables(…, { ifVersions }), the same on every backend.

import { describe, expect, it } from 'vitest';
import { type ConformanceFactory, codeOf, errorOf, observe } from './backend.js';

export function concurrencyTests(factory: ConformanceFactory): void {
  describe('conditional writes (ifVersion, ifVersions)', () => {
    async function seeded() {
      const s = await factory();
      await s.registerVariable('temperature', 'float', 0.7, { constraints: { min: 0, max: 2 } });
      await s.registerVariable('top_k', 'integer', 40, { constraints: { min: 1 } });
      await s.registerVariable('prompt', 'string', 'hi', { constraints: { maxLength: 10 } });
      return s;
    }

    it('a set at the current version applies and bumps the version by one', async () => {
      const s = await seeded();
      await s.setVariable('temperature', 0.9, undefined, { ifVersion: 0 });
      await s.setVariable('prompt', 'hello', { by: 'a' }, { ifVersion: 0 });
      await s.setVariable('temperature', 1.1, undefined, { ifVersion: 1 });
      expect(await s.getVariables(['temperature', 'prompt'])).toEqual({ temperature: 1.1, prompt: 'hello' });
      const [t, , p] = await s.listVariables();
      expect(t?.version).toBe(2);
      expect(p?.version).toBe(1);
      expect(p?.metadata).toEqual({ by: 'a' });
    });

    it('a set at another version throws version_conflict naming both versions, and changes nothing', async () => {
      const s = await seeded();
      await s.setVariable('temperature', 0.9);
      const before = await observe(s);
      const error = await errorOf(() => s.setVariable('temperature', 1.5, { by: 'x' }, { ifVersion: 0 }));
      expect(error.code).toBe('version_conflict');
      expect(error.message).toContain('temperature');
      expect(error.message).toContain('version 1');
      expect(error.message).toContain('expected 0');
      expect(error).toMatchObject({ expectedVersion: 0, actualVersion: 1, variable: 'temperature' });
      expect(await observe(s)).toEqual(before);
    });

    it('precedence: a missing variable is not_found; a version mismatch comes before type and constraint checks', async () => {
      const s = await seeded();
      expect(await codeOf(() => s.setVariable('missing', 1, undefined, { ifVersion: 0 }))).toBe('not_found');
      expect(await codeOf(() => s.setVariable('temperature', 'not a number', undefined, { ifVersion: 3 }))).toBe('version_conflict');
      expect(await codeOf(() => s.setVariable('temperature', 99, undefined, { ifVersion: 3 }))).toBe('version_conflict');
      // At the right version the value's own checks report.
      expect(await codeOf(() => s.setVariable('temperature', 'not a number', undefined, { ifVersion: 0 }))).toBe('invalid_value');
      expect(await codeOf(() => s.setVariable('temperature', 99, undefined, { ifVersion: 0 }))).toBe('constraint_violation');
    });

    it('a version that is not a non-negative safe integer is invalid_argument, and so is an unknown option', async () => {
      const s = await seeded();
      const before = await observe(s);
      for (const bad of [-1, 1.5, Number.NaN, '0', null, 2 ** 53, Number.POSITIVE_INFINITY]) {
        expect(await codeOf(() => s.setVariable('temperature', 1, undefined, { ifVersion: bad as number }))).toBe('invalid_argument');
        expect(await codeOf(() => s.updateVariables({ temperature: 1 }, undefined, { ifVersions: { temperature: bad as number } }))).toBe(
          'invalid_argument',
        );
      }
      expect(await codeOf(() => s.setVariable('temperature', 1, undefined, { ifVersoin: 0 } as never))).toBe('invalid_argument');
      expect(await codeOf(() => s.updateVariables({ temperature: 1 }, undefined, { ifVersion: 0 } as never))).toBe('invalid_argument');
      expect(await codeOf(() => s.updateVariables({ temperature: 1 }, undefined, { ifVersions: [0] } as never))).toBe('invalid_argument');
      expect(await observe(s)).toEqual(before);
    });

    it('a batch commits when every guard holds, guards by id and by name alike', async () => {
      const s = await seeded();
      const [t] = await s.listVariables();
      await s.updateVariables({ temperature: 1.2, top_k: 41 }, { by: 'opt' }, { ifVersions: { [t?.id ?? '']: 0, top_k: 0 } });
      expect(await s.getVariables(['temperature', 'top_k'])).toEqual({ temperature: 1.2, top_k: 41 });
    });

    it('a batch with a stale guard fails as a whole: batch_failed, the item code version_conflict, nothing changed', async () => {
      const s = await seeded();
      await s.setVariable('top_k', 50);
      const before = await observe(s);
      const error = await errorOf(() => s.updateVariables({ temperature: 1.2, top_k: 41 }, undefined, { ifVersions: { top_k: 0 } }));
      expect(error.code).toBe('batch_failed');
      expect(Object.keys(error.errors ?? {})).toEqual(['top_k']);
      expect(error.errors?.top_k?.code).toBe('version_conflict');
      expect(await observe(s)).toEqual(before);
    });

    it('a guard on a variable the batch does not write is a read guard', async () => {
      const s = await seeded();
      await s.updateVariables({ temperature: 1.0 }, undefined, { ifVersions: { prompt: 0 } });
      expect(await s.getVariable('temperature')).toBe(1);
      await s.setVariable('prompt', 'changed');
      const before = await observe(s);
      const error = await errorOf(() => s.updateVariables({ temperature: 1.3 }, undefined, { ifVersions: { prompt: 0 } }));
      expect(error.code).toBe('batch_failed');
      expect(error.errors?.prompt?.code).toBe('version_conflict');
      expect(await observe(s)).toEqual(before);
    });

    it('errors list every failing item, whichever check found it: conflicts, type, constraints, missing, missing guards', async () => {
      const s = await seeded();
      await s.setVariable('top_k', 50);
      const error = await errorOf(() =>
        s.updateVariables({ temperature: 5, top_k: 41, prompt: 7, missing: 1 }, undefined, { ifVersions: { top_k: 0, gone: 0 } }),
      );
      expect(error.code).toBe('batch_failed');
      expect(Object.keys(error.errors ?? {})).toEqual(['temperature', 'top_k', 'prompt', 'missing', 'gone']);
      expect(error.errors?.temperature?.code).toBe('constraint_violation');
      expect(error.errors?.top_k?.code).toBe('version_conflict');
      expect(error.errors?.prompt?.code).toBe('invalid_value');
      expect(error.errors?.missing?.code).toBe('not_found');
      expect(error.errors?.gone?.code).toBe('not_found');
    });

    it('a version conflict on a batch item is reported instead of its type error', async () => {
      const s = await seeded();
      await s.setVariable('temperature', 1);
      const error = await errorOf(() => s.updateVariables({ temperature: 'x' }, undefined, { ifVersions: { temperature: 0 } }));
      expect(error.errors?.temperature?.code).toBe('version_conflict');
    });

    it('read-modify-write with ifVersion and a retry never loses an increment', async () => {
      const s = await seeded();
      for (let i = 0; i < 20; i++) {
        for (;;) {
          const [, info] = await s.listVariables();
          try {
            await s.setVariable('top_k', (info?.value as number) + 1, undefined, { ifVersion: info?.version ?? 0 });
            break;
          } catch (error) {
            if ((error as { code?: string }).code !== 'version_conflict') throw error;
          }
        }
      }
      expect(await s.getVariable('top_k')).toBe(60);
      expect((await s.listVariables())[1]?.version).toBe(20);
    });

    it('a ref set is unconditional; stats count a conditional write like any other', async () => {
      const s = await seeded();
      const before = await s.stats();
      await s.setVariable('temperature', 1, undefined, { ifVersion: 0 });
      await codeOf(() => s.setVariable('temperature', 1.1, undefined, { ifVersion: 0 }));
      const after = await s.stats();
      expect(after.totalUpdates).toBe(before.totalUpdates + 1);
      expect(after.totalOperations).toBe(before.totalOperations + 1);
    });
  });
}
