// String patterns: no pattern and no value can stall the store (issue 13).
// Known catastrophic patterns, with values that make a backtracking engine take
// exponential or polynomial time, go through every entry point that checks a
// value. Each call must end with the right answer. There is no timing
// assertion: with native RegExp these calls would not finish, and a test that
// hangs is the failure. Every store call is awaited, so that one suite serves
// synchronous and asynchronous backends.

import { describe, expect, it } from 'vitest';
import type { Factory, Store } from './backend.js';

const MIB = 1 << 20;

/** A pattern, a hostile value of about `n` characters, and whether that value matches. */
export interface Catastrophe {
  readonly name: string;
  readonly pattern: string | RegExp;
  readonly value: (n: number) => string;
  readonly matches: boolean;
  /** A short value the pattern accepts, so that writes start from a valid state. */
  readonly accepts: string;
}

const fill = (unit: string, n: number) => unit.repeat(Math.max(1, Math.floor(n / unit.length)));

export const CATASTROPHES: readonly Catastrophe[] = [
  { name: 'nested quantifier (a+)+', pattern: '^(a+)+$', value: (n) => `${fill('a', n)}!`, matches: false, accepts: 'aaa' },
  { name: 'nested quantifier (x+x+)+y', pattern: /(x+x+)+y/, value: (n) => fill('x', n), matches: false, accepts: 'xxy' },
  { name: 'nested star (a*)*b', pattern: '(a*)*b', value: (n) => fill('a', n), matches: false, accepts: 'aab' },
  { name: 'overlapping alternation (a|a)*', pattern: '^(a|a)*$', value: (n) => `${fill('a', n)}!`, matches: false, accepts: 'aa' },
  { name: 'overlapping alternation (a|aa)+', pattern: /^(a|aa)+$/, value: (n) => `${fill('a', n)}b`, matches: false, accepts: 'aaa' },
  {
    name: 'overlapping alternation (\\d|\\d\\d)+, case-insensitive',
    pattern: /^(\d|\d\d)+$/i,
    value: (n) => `${fill('1', n)}x`,
    matches: false,
    accepts: '123',
  },
  {
    name: 'words with optional spaces (\\w+\\s?)*$ (matches: empty at the end)',
    pattern: '(\\w+\\s?)*$',
    value: (n) => `${fill('ab ', n)}!`,
    matches: true,
    accepts: 'ab cd',
  },
  {
    name: 'words with optional spaces, anchored',
    pattern: '^(\\w+\\s?)*$',
    value: (n) => `${fill('ab ', n)}!`,
    matches: false,
    accepts: 'ab cd',
  },
  { name: 'polynomial \\s*\\s*$ (matches)', pattern: '\\s*\\s*$', value: (n) => `${fill(' ', n)}x`, matches: true, accepts: ' ' },
  { name: 'polynomial ^\\d*\\d*\\d*$', pattern: '^\\d*\\d*\\d*$', value: (n) => `${fill('1', n)}!`, matches: false, accepts: '123' },
  { name: 'polynomial unanchored a+$', pattern: 'a+$', value: (n) => `${fill('a', n)}!`, matches: false, accepts: 'ba' },
  { name: 'polynomial (.*a){12}', pattern: '^(.*a){12}$', value: (n) => `${fill('a', n)}b`, matches: false, accepts: 'a'.repeat(12) },
  {
    name: 'exponential (a?){30}a{30} (matches)',
    pattern: '^(a?){30}a{30}$',
    value: () => 'a'.repeat(30),
    matches: true,
    accepts: 'a'.repeat(30),
  },
  {
    name: 'e-mail validator',
    pattern: /^([a-zA-Z0-9])(([-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$/,
    value: (n) => `${fill('a', n)}!`,
    matches: false,
    accepts: 'ab@cd.com',
  },
  { name: 'dot-all nested (.+)+ with flag s', pattern: /^(.+)+x$/s, value: (n) => fill('ab\n', n), matches: false, accepts: 'a\nx' },
];

/** 31 characters already takes native RegExp seconds on the exponential cases; 1 MiB finds the polynomial ones. */
export const HOSTILE_SIZES: readonly number[] = [31, MIB];

/** The StateError a call threw or rejected with (fails when it returned). */
async function failure(
  call: () => unknown,
): Promise<Error & { code: string; variable?: string; path?: string; errors?: Record<string, { code: string }> }> {
  try {
    await call();
  } catch (error) {
    if (error instanceof Error && error.name === 'StateError') return error as Error & { code: string };
    throw error;
  }
  throw new Error('expected a StateError, but the call returned');
}

/** A snapshot holding one string variable `s` with `pattern`, its value replaced by `value` after export. */
async function snapshotWith(factory: Factory, pattern: unknown, value: string): Promise<{ payload: unknown; id: string }> {
  const source = await factory({ sessionId: 'source' });
  const id = await source.registerVariable('s', 'string', 'seed');
  const snapshot = JSON.parse(JSON.stringify(await source.exportState()));
  snapshot.variables[id].constraints = { pattern };
  snapshot.variables[id].value = value;
  return { payload: snapshot, id };
}

/** The export form of a pattern: a RegExp travels as { regexp, flags }. */
const encoded = (pattern: string | RegExp) => (pattern instanceof RegExp ? { regexp: pattern.source, flags: pattern.flags } : pattern);

export function patternTests(factory: Factory): void {
  describe('string patterns in linear time', () => {
    for (const c of CATASTROPHES) {
      for (const n of HOSTILE_SIZES) {
        it(`${c.name}, ${n === MIB ? '1 MiB' : `${n} characters`}: register, set, updateVariables and importState answer ${c.matches ? 'match' : 'no match'}`, async () => {
          const hostile = c.value(n);
          const s: Store = await factory();
          const constraints = { pattern: c.pattern };

          // registerVariable checks the initial value.
          if (c.matches) {
            await s.registerVariable('r', 'string', hostile, { constraints });
            expect(await s.getVariable('r')).toBe(hostile);
          } else {
            const error = await failure(() => s.registerVariable('r', 'string', hostile, { constraints }));
            expect(error.code).toBe('constraint_violation');
            expect(error.variable).toBe('r');
          }

          // setVariable and updateVariables check every write, on a variable registered with a short value.
          await s.registerVariable('w', 'string', c.accepts, { constraints });
          if (c.matches) {
            await s.setVariable('w', hostile);
            expect(await s.getVariable('w')).toBe(hostile);
            await s.updateVariables({ w: hostile });
            expect(await s.getVariable('w')).toBe(hostile);
          } else {
            expect((await failure(() => s.setVariable('w', hostile))).code).toBe('constraint_violation');
            const batch = await failure(() => s.updateVariables({ w: hostile }));
            expect(batch.code).toBe('batch_failed');
            expect(batch.errors?.w?.code).toBe('constraint_violation');
            expect(await s.getVariable('w')).toBe(c.accepts);
          }

          // importState checks the value against the pattern it arrives with.
          const { payload, id } = await snapshotWith(factory, encoded(c.pattern), hostile);
          const target = await factory();
          if (c.matches) {
            await target.importState(payload);
            expect(await target.getVariable(id)).toBe(hostile);
          } else {
            const error = await failure(() => target.importState(payload));
            expect(error.code).toBe('invalid_export');
            expect(error.path).toBe(`variables.${id}.value`);
            expect(await target.listVariables()).toEqual([]);
          }
        });
      }
    }

    it('a refused pattern is invalid_argument at registration, naming the variable and the construct', async () => {
      const s = await factory();
      const refused: ReadonlyArray<readonly [string | RegExp, string]> = [
        ['^(?=a)a$', 'lookahead `(?=`'],
        ['^(?!a)b$', 'negative lookahead `(?!`'],
        [/(?<=a)b/, 'lookbehind `(?<=`'],
        [/(?<!a)b/, 'negative lookbehind `(?<!`'],
        ['^(a)\\1$', 'backreference `\\1`'],
        [/^(?<q>a)\k<q>$/, 'named backreference `\\k<q>`'],
        [/^a$/m, '`^` with flag m'],
        // biome-ignore lint/complexity/useRegexLiterals: a literal /a/v needs an es2024 target
        [new RegExp('a', 'v'), 'flag v'],
        ['a{1001}', 'repeat count `{1001}`'],
      ];
      for (const [pattern, construct] of refused) {
        const error = await failure(() => s.registerVariable('guarded', 'string', 'a', { constraints: { pattern } }));
        expect(error.code, String(pattern)).toBe('invalid_argument');
        expect(error.variable).toBe('guarded');
        expect(error.message).toContain('"guarded"');
        expect(error.message).toContain(construct);
      }
      expect(await s.listVariables()).toEqual([]);
    });

    it("a refused pattern in a snapshot is invalid_export at the variable's constraints, naming the construct; nothing is imported", async () => {
      for (const [pattern, construct] of [
        [{ regexp: '(a)\\1', flags: '' }, 'backreference `\\1`'],
        [{ regexp: 'x(?=y)', flags: 'g' }, 'lookahead `(?=`'],
        ['(?<!a)b', 'negative lookbehind `(?<!`'],
        [{ regexp: '^a', flags: 'm' }, 'flag m'],
        [{ regexp: '[a]', flags: 'v' }, 'flag v'],
      ] as const) {
        const { payload, id } = await snapshotWith(factory, pattern, 'b');
        const target = await factory();
        await target.registerVariable('kept', 'string', 'kept');
        const before = await target.listVariables();
        const error = await failure(() => target.importState(payload));
        expect(error.code).toBe('invalid_export');
        expect(error.path).toBe(`variables.${id}.constraints`);
        expect(error.message).toContain(construct);
        expect(error.message).toContain('"s"');
        expect(await target.listVariables()).toEqual(before);
      }
    });

    it('a snapshot from before linear-time patterns still imports when its patterns are supported', async () => {
      const s = await factory();
      const id = await s.registerVariable('name', 'string', 'max_tokens', { constraints: { pattern: /^[a-z_]{1,64}$/gi } });
      const payload = JSON.parse(JSON.stringify(await s.exportState()));
      expect(payload.variables[id].constraints.pattern).toEqual({ regexp: '^[a-z_]{1,64}$', flags: 'gi' });
      const t = await factory();
      await t.importState(payload);
      expect(String((await t.listVariables())[0]?.constraints.pattern)).toBe('/^[a-z_]{1,64}$/gi');
      await t.setVariable('name', 'TOP_K');
      expect((await failure(() => t.setVariable('name', 'top-k'))).code).toBe('constraint_violation');
    });

    it('an invalid source string still matches literally; g and y still never make checks flip', async () => {
      const s = await factory();
      await s.registerVariable('lit', 'string', 'a(b', { constraints: { pattern: '(b' } });
      expect((await failure(() => s.setVariable('lit', 'ab'))).code).toBe('constraint_violation');
      await s.registerVariable('gy', 'string', 'x1', { constraints: { pattern: /\d/gy } });
      for (let i = 0; i < 4; i++) await s.setVariable('gy', `${i}`);
    });

    it('the flags that change a check keep their meaning: i, s, u; d is ignored', async () => {
      const s = await factory();
      await s.registerVariable('i', 'string', 'ABC', { constraints: { pattern: /^abc$/i } });
      await s.registerVariable('s', 'string', 'a\nb', { constraints: { pattern: /^a.b$/s } });
      expect((await failure(() => s.registerVariable('nos', 'string', 'a\nb', { constraints: { pattern: /^a.b$/ } }))).code).toBe(
        'constraint_violation',
      );
      await s.registerVariable('u', 'string', '👍', { constraints: { pattern: /^\u{1F44D}$/u } });
      await s.registerVariable('d', 'string', 'x', { constraints: { pattern: /^x$/d } });
      await s.registerVariable('m', 'string', 'xay', { constraints: { pattern: /a/m } }); // m without ^ or $ changes nothing
    });
  });
}
