// Differential: the pattern engines against native RegExp. fast-check builds
// patterns from the syntax both accept (classes, escapes, anchors, groups,
// alternation, greedy and lazy quantifiers; flags i, s, u, g) and values over
// a small alphabet, and every engine must answer as native RegExp does.
// Values stay in the BMP and avoid the characters whose case folding differs
// without u (ſ, K): those differences are by design, pinned below and listed
// in the README.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../dist/types/pattern.js';

const ATOMS = [
  'a',
  'b',
  'c',
  'A',
  '1',
  '_',
  ' ',
  '-',
  'é',
  '.',
  '\\.',
  '\\d',
  '\\D',
  '\\w',
  '\\W',
  '\\s',
  '\\S',
  '\\t',
  '\\n',
  '\\x41',
  '\\u0062',
  '[a-c]',
  '[^a]',
  '[^\\w]',
  '[\\d_]',
  '[a-]',
  '[\\s\\S]',
  '[É-ê]',
  '[]',
  '[^]',
];
const ASSERTIONS = ['^', '$', '\\b', '\\B'];
const QUANTIFIERS = ['', '', '', '*', '+', '?', '{2}', '{0,2}', '{1,3}', '{2,}', '*?', '+?', '??', '{1,2}?'];
const ALPHABET = ['a', 'b', 'c', 'A', 'B', '1', '2', '_', ' ', '-', '.', '\n', '\t', 'é', 'É', 'x', '\u00a0'];

const pattern: fc.Arbitrary<string> = fc
  .letrec<{ alt: string; seq: string; term: string }>((tie) => ({
    alt: fc.array(tie('seq'), { minLength: 1, maxLength: 3 }).map((seqs) => seqs.join('|')),
    seq: fc.array(tie('term'), { minLength: 0, maxLength: 4 }).map((terms) => terms.join('')),
    term: fc.oneof(
      { weight: 5, arbitrary: fc.tuple(fc.constantFrom(...ATOMS), fc.constantFrom(...QUANTIFIERS)).map(([a, q]) => a + q) },
      { weight: 1, arbitrary: fc.constantFrom(...ASSERTIONS) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom('(', '(?:', '(?<n>'), tie('alt'), fc.constantFrom(...QUANTIFIERS))
          .map(([open, body, q]) => `${open}${body})${q}`),
      },
    ),
  }))
  .alt.filter((p) => p.split('(?<n>').length <= 2);

const flags = fc.subarray(['g', 'i', 's', 'u']).map((f) => f.join(''));
const values = fc.array(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 8 }), { minLength: 10, maxLength: 20 });

function nativeAnswer(source: string, f: string): RegExp | undefined {
  try {
    return new RegExp(source, f.replace('g', ''));
  } catch {
    return undefined;
  }
}

describe('pattern engines agree with native RegExp', () => {
  it('on generated patterns and values, with the engine chosen and with the linear engine forced', () => {
    let compared = 0;
    let nativeChosen = 0;
    fc.assert(
      fc.property(pattern, flags, values, (source, f, inputs) => {
        const reference = nativeAnswer(source, f);
        if (!reference) return; // not a pattern native RegExp accepts with these flags
        const chosen = compilePattern(source, f, false);
        const linear = compilePattern(source, f, false, false);
        expect(chosen.refused, `/${source}/${f}`).toBeUndefined();
        if (chosen.refused !== undefined || linear.refused !== undefined) return;
        if (chosen.engine === 'native') nativeChosen++;
        for (const value of inputs) {
          const expected = reference.test(value);
          expect(chosen.test(value), `/${source}/${f} on ${JSON.stringify(value)} (${chosen.engine})`).toBe(expected);
          expect(linear.test(value), `/${source}/${f} on ${JSON.stringify(value)} (linear)`).toBe(expected);
          compared++;
        }
      }),
      { numRuns: Number(process.env.PATTERN_RUNS ?? 1000), seed: Number(process.env.PATTERN_SEED ?? 0x13) },
    );
    // A generator that only ever produced one engine's patterns would compare little.
    expect(compared).toBeGreaterThan(5_000);
    expect(nativeChosen).toBeGreaterThan(100);
  });

  it('on source strings (no flags, read without u), including Annex B escapes, braces and octal', () => {
    const sources = [
      '\\8',
      '\\01',
      '(a)\\2',
      'a{',
      'a{1',
      'x{2,1x',
      '}',
      ']',
      '\\c',
      '[\\c1]',
      '\\cJ',
      '\\k',
      '\\u{3}',
      '\\x4',
      '[\\d-z]',
      '\\0',
    ];
    const inputs = [
      '8',
      '\u0001',
      'a',
      '\u0002a',
      'a{',
      'a{1',
      'x{2,1x',
      '}',
      ']',
      '\\c',
      '\u0011',
      '\n',
      'k',
      'uuu',
      'x4',
      '-',
      '5',
      'z',
      '\0',
      'aa',
    ];
    for (const source of sources) {
      const reference = new RegExp(source);
      const compiled = compilePattern(source, '', true, false);
      if (compiled.refused !== undefined) throw new Error(`${source}: ${compiled.refused}`);
      for (const value of inputs)
        expect(compiled.test(value), `${JSON.stringify(source)} on ${JSON.stringify(value)}`).toBe(reference.test(value));
    }
  });
});

describe('differences from native RegExp, by design (the README lists them)', () => {
  const check = (source: string, f: string, value: string) => {
    const compiled = compilePattern(source, f, false);
    if (compiled.refused !== undefined) throw new Error(compiled.refused);
    return compiled.test(value);
  };

  it('a character outside the BMP is one character, with or without u', () => {
    expect(check('^.$', '', '👍')).toBe(true);
    expect(/^.$/.test('👍')).toBe(false);
    expect(check('^..$', '', '👍')).toBe(false);
  });

  it('i folds case as native does with u (Unicode simple case folding), also without u', () => {
    expect(check('^s$', 'i', 'ſ')).toBe(true);
    expect(/^s$/i.test('ſ')).toBe(false);
    expect(/^s$/iu.test('ſ')).toBe(true);
    expect(check('^k$', 'i', '\u212a')).toBe(true);
  });

  it('with i and u, \\b counts only ASCII word characters (native also counts ſ and K)', () => {
    expect(check('\\bs', 'iu', ' ſ')).toBe(false);
    expect(/\bs/iu.test(' ſ')).toBe(true);
    expect(check('a\\b', 'iu', 'aſ')).toBe(true);
    expect(/a\b/iu.test('aſ')).toBe(false);
  });
});
