import { describe, expect, it } from 'vitest';
import { type ConformanceFactory, codeOf } from './backend.js';

export function typeTests(factory: ConformanceFactory): void {
  describe('types', () => {
    it('float accepts any number and the strings NaN/Infinity/-Infinity, keeping -0, NaN, ±Infinity and subnormals exactly', async () => {
      const s = await factory();
      await s.registerVariable('f', 'float', 0);
      const cases: Array<[unknown, number]> = [
        [1.5, 1.5],
        [-0, -0],
        [5e-324, 5e-324],
        [Number.MAX_VALUE, Number.MAX_VALUE],
        [Number.NaN, Number.NaN],
        [Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY],
        ['Infinity', Number.POSITIVE_INFINITY],
        ['-Infinity', Number.NEGATIVE_INFINITY],
        ['NaN', Number.NaN],
      ];
      for (const [input, stored] of cases) {
        await s.setVariable('f', input);
        expect(Object.is(await s.getVariable('f'), stored)).toBe(true);
      }
    });

    it('float refuses everything else: numeric strings, booleans, null, objects', async () => {
      const s = await factory();
      await s.registerVariable('f', 'float', 0.5);
      for (const bad of ['1.5', '-0', 'inf', '', true, false, null, undefined, {}, [1], 1n]) {
        expect(await codeOf(() => s.setVariable('f', bad))).toBe('invalid_value');
      }
      expect(await s.getVariable('f')).toBe(0.5);
    });

    it('float min/max apply to finite values; NaN and ±Infinity bypass them', async () => {
      const s = await factory();
      await s.registerVariable('t', 'float', 1, { constraints: { min: 0, max: 2 } });
      await s.setVariable('t', 0);
      await s.setVariable('t', 2);
      expect(await codeOf(() => s.setVariable('t', -1e-9))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('t', 2.0000001))).toBe('constraint_violation');
      await s.setVariable('t', Number.POSITIVE_INFINITY);
      await s.setVariable('t', Number.NEGATIVE_INFINITY);
      await s.setVariable('t', 'NaN');
      expect(Number.isNaN(await s.getVariable('t'))).toBe(true);
    });

    it('integer accepts safe integers only, with min/max; -0 becomes 0', async () => {
      const s = await factory();
      await s.registerVariable('k', 'integer', 1, { constraints: { min: -5, max: 2 ** 40 } });
      await s.setVariable('k', 2 ** 40);
      expect(await s.getVariable('k')).toBe(2 ** 40);
      await s.setVariable('k', -0);
      expect(Object.is(await s.getVariable('k'), 0)).toBe(true);
      for (const bad of [1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, '1', true, null]) {
        expect(await codeOf(() => s.setVariable('k', bad))).toBe('invalid_value');
      }
      expect(await codeOf(() => s.setVariable('k', -6))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('k', 2 ** 40 + 1))).toBe('constraint_violation');
      await s.registerVariable('big', 'integer', Number.MAX_SAFE_INTEGER);
      await s.setVariable('big', Number.MIN_SAFE_INTEGER);
      expect(await s.getVariable('big')).toBe(Number.MIN_SAFE_INTEGER);
    });

    it('boolean accepts true/false, "true"/"false", 1/0 and returns booleans', async () => {
      const s = await factory();
      await s.registerVariable('b', 'boolean', 'true');
      expect(await s.getVariable('b')).toBe(true);
      for (const [input, stored] of [
        [false, false],
        [1, true],
        [0, false],
        ['true', true],
        ['false', false],
        [true, true],
      ] as const) {
        await s.setVariable('b', input);
        expect(await s.getVariable('b')).toBe(stored);
      }
      for (const bad of [2, 0.5, -1, 'yes', 'TRUE', '1', null, undefined, Number.NaN]) {
        expect(await codeOf(() => s.setVariable('b', bad))).toBe('invalid_value');
      }
      expect(await s.getVariable('b')).toBe(true);
    });

    it('string accepts strings only, no coercion', async () => {
      const s = await factory();
      await s.registerVariable('p', 'string', '');
      for (const bad of [1, null, undefined, true, ['a'], { toString: () => 'a' }]) {
        expect(await codeOf(() => s.setVariable('p', bad))).toBe('invalid_value');
      }
    });

    it('string minLength/maxLength count user-perceived characters (grapheme clusters)', async () => {
      const s = await factory();
      await s.registerVariable('p', 'string', 'ab', { constraints: { minLength: 2, maxLength: 3 } });
      await s.setVariable('p', '👍🏽👍🏽👍🏽'); // 3 clusters, 12 UTF-16 units
      await s.setVariable('p', 'e\u0301e\u0301'); // 2 clusters (e + combining acute)
      await s.setVariable('p', '\r\n\r\n'); // CR LF is one cluster
      await s.setVariable('p', '🇫🇷🇩🇪'); // flags: 2 clusters
      expect(await codeOf(() => s.setVariable('p', 'a'))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('p', '👍🏽'))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('p', 'abcd'))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('p', 'e\u0301e\u0301e\u0301e\u0301'))).toBe('constraint_violation');
    });

    it('string length limits hold at their edges: a maxLength alone, and minLength 1', async () => {
      const s = await factory();
      await s.registerVariable('max', 'string', 'a', { constraints: { maxLength: 2 } });
      await s.setVariable('max', '👍🏽👍🏽'); // 8 UTF-16 units, 2 clusters
      await s.setVariable('max', '');
      expect(await codeOf(() => s.setVariable('max', 'abc'))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('max', 'e\u0301e\u0301e\u0301'))).toBe('constraint_violation');
      await s.registerVariable('one', 'string', 'a', { constraints: { minLength: 1, maxLength: 1 } });
      await s.setVariable('one', '🇫🇷'); // 4 units, 1 cluster
      await s.setVariable('one', 'e\u0301');
      expect(await codeOf(() => s.setVariable('one', ''))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('one', 'ab'))).toBe('constraint_violation');
      expect(await s.getVariable('one')).toBe('e\u0301');
    });

    it('string pattern: a source string or a RegExp; g/y flags do not make checks flip', async () => {
      const s = await factory();
      await s.registerVariable('p', 'string', 'abc', { constraints: { pattern: '^[a-z]+$' } });
      expect(await codeOf(() => s.setVariable('p', 'ABC'))).toBe('constraint_violation');
      await s.registerVariable('g', 'string', 'x1', { constraints: { pattern: /\d/g } });
      for (let i = 0; i < 5; i++) await s.setVariable('g', `x${i}`); // a stateful lastIndex would fail every other check
      await s.registerVariable('y', 'string', '1', { constraints: { pattern: /\d/y } });
      for (let i = 0; i < 5; i++) await s.setVariable('y', `${i}`);
      await s.registerVariable('i', 'string', 'ABC', { constraints: { pattern: /^abc$/i } });
      expect(await codeOf(() => s.setVariable('i', 'abd'))).toBe('constraint_violation');
    });

    it('string pattern: an invalid source string matches literally, as in the origin', async () => {
      const s = await factory();
      await s.registerVariable('p', 'string', 'a[b', { constraints: { pattern: '[b' } });
      await s.setVariable('p', 'x[by');
      expect(await codeOf(() => s.setVariable('p', 'ab'))).toBe('constraint_violation');
    });

    it('string enum limits values', async () => {
      const s = await factory();
      await s.registerVariable('mode', 'string', 'fast', { constraints: { enum: ['fast', 'slow'] } });
      await s.setVariable('mode', 'slow');
      expect(await codeOf(() => s.setVariable('mode', 'medium'))).toBe('constraint_violation');
      expect(await codeOf(() => s.registerVariable('m2', 'string', 'x', { constraints: { enum: ['a'] } }))).toBe('constraint_violation');
    });

    it('choice takes one of choices; module one of allowedModules (any name without the list)', async () => {
      const s = await factory();
      await s.registerVariable('c', 'choice', 'a', { constraints: { choices: ['a', 'b'] } });
      await s.setVariable('c', 'b');
      expect(await codeOf(() => s.setVariable('c', 'z'))).toBe('constraint_violation');
      expect(await codeOf(() => s.setVariable('c', 1))).toBe('invalid_value');
      await s.registerVariable('m', 'module', 'ChainOfThought', { constraints: { allowedModules: ['Predict', 'ChainOfThought'] } });
      await s.setVariable('m', 'Predict');
      expect(await codeOf(() => s.setVariable('m', 'ReAct'))).toBe('constraint_violation');
      await s.registerVariable('free', 'module', 'Anything');
      await s.setVariable('free', 'ReAct');
      expect(await s.getVariable('free')).toBe('ReAct');
    });

    it('embedding takes arrays and Float32/64Arrays of finite numbers, with dimensions', async () => {
      const s = await factory();
      await s.registerVariable('e', 'embedding', [0.1, -0, 3], { constraints: { dimensions: 3 } });
      expect(Object.is(((await s.getVariable('e')) as number[])[1], -0)).toBe(true);
      await s.setVariable('e', new Float32Array([1, 2, 3]));
      expect(await s.getVariable('e')).toEqual([1, 2, 3]);
      await s.setVariable('e', new Float64Array([0.5, 0.25, 0.125]));
      expect(await s.getVariable('e')).toEqual([0.5, 0.25, 0.125]);
      expect(await codeOf(() => s.setVariable('e', [1, 2]))).toBe('constraint_violation');
      for (const bad of [
        [1, Number.NaN, 3],
        [1, '2', 3],
        [1, Number.POSITIVE_INFINITY, 3],
        'abc',
        null,
        new Int32Array(3),
        { length: 3 },
      ]) {
        expect(await codeOf(() => s.setVariable('e', bad))).toBe('invalid_value');
      }
      // biome-ignore lint/suspicious/noSparseArray: a hole is exactly what is being refused
      expect(await codeOf(() => s.setVariable('e', [1, , 3]))).toBe('invalid_value');
      expect(await s.getVariable('e')).toEqual([0.5, 0.25, 0.125]);
    });

    it('tensor takes { shape, data } whose flattened size is the product of shape, with a shape constraint', async () => {
      const s = await factory();
      await s.registerVariable(
        't',
        'tensor',
        {
          shape: [2, 2],
          data: [
            [1, 2],
            [3, 4],
          ],
        },
        { constraints: { shape: [2, 2] } },
      );
      await s.setVariable('t', {
        shape: [2, 2],
        data: [
          [5, 6],
          [7, 8],
        ],
      });
      expect(await s.getVariable('t')).toEqual({
        shape: [2, 2],
        data: [
          [5, 6],
          [7, 8],
        ],
      });
      expect(await codeOf(() => s.setVariable('t', { shape: [2, 2], data: [[1, 2], [3]] }))).toBe('invalid_value');
      expect(await codeOf(() => s.setVariable('t', { shape: [4], data: [1, 2, 3, 4] }))).toBe('constraint_violation');
      for (const bad of [
        { shape: [2], data: [1, 'x'] },
        { shape: [-1], data: [] },
        { data: [1] },
        [1, 2],
        null,
        { shape: [1], data: [Number.NaN] },
      ]) {
        expect(await codeOf(() => s.setVariable('t', bad))).toBe('invalid_value');
      }
      let deep: unknown = 1;
      for (let i = 0; i < 10_000; i++) deep = [deep];
      await s.registerVariable('free', 'tensor', { shape: [], data: 7 });
      expect(await codeOf(() => s.setVariable('free', { shape: [1], data: deep }))).toBe('invalid_value');
    });

    it('copies values in and hands out values that cannot change the store', async () => {
      const s = await factory();
      const input = [1, 2, 3];
      await s.registerVariable('e', 'embedding', input);
      input[0] = 99;
      expect(await s.getVariable('e')).toEqual([1, 2, 3]);
      const out = (await s.getVariable('e')) as number[];
      expect(() => {
        out[0] = 42;
      }).toThrow(TypeError);
      expect(await s.getVariable('e')).toEqual([1, 2, 3]);
      const data = [[1, 2]];
      await s.registerVariable('t', 'tensor', { shape: [1, 2], data });
      (data[0] as number[])[0] = 99;
      const tensor = (await s.getVariable('t')) as { shape: number[]; data: number[][] };
      expect(tensor.data).toEqual([[1, 2]]);
      expect(() => {
        (tensor.data[0] as number[])[0] = 5;
      }).toThrow(TypeError);
      expect(() => {
        tensor.shape.push(3);
      }).toThrow(TypeError);
      const info = (await s.listVariables())[0];
      expect(() => {
        (info?.metadata as Record<string, unknown>).x = 1;
      }).toThrow(TypeError);
      await s.registerVariable('p', 'string', 'a', { constraints: { pattern: /a/g, enum: ['a'] } });
      const constraints = (await s.listVariables())[2]?.constraints as { enum: string[]; pattern: RegExp };
      constraints.enum.push('b');
      expect(await codeOf(() => s.setVariable('p', 'b'))).toBe('constraint_violation');
    });
  });
}
