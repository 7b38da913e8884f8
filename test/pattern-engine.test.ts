// Which engine checks a pattern, and why that choice is safe. Native RegExp may
// only check patterns whose backtracking pattern-cost.ts bounds; these tests
// hold that bound against the corpus and against a backtracking matcher that
// counts its own steps.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from '../dist/types/pattern.js';
import { backtrackingCost } from '../dist/types/pattern-cost.js';
import { type PatternNode, readPattern } from '../dist/types/pattern-syntax.js';
import { CATASTROPHES } from './conformance/patterns.js';

const engineOf = (pattern: string | RegExp) => {
  const compiled = pattern instanceof RegExp ? compilePattern(pattern.source, pattern.flags, false) : compilePattern(pattern, '', true);
  return compiled.refused ?? compiled.engine;
};

// Quadratic or worse for a backtracking engine, though some are not in the corpus's exponential class.
const DANGEROUS = [
  '^\\d*\\d*$',
  '^[a-z]*[a-z]*$',
  'a*a*b',
  '[a-z]+$',
  '\\s+$',
  '^(?:a+){2}$',
  '^(?:[a-z]+,){0,5}$',
  '^(a|ab)*c$',
  '^(?:a|b)*$',
  '(?:x{1,64}){1,10}y',
  '^.*.*=.*$',
  '^(?:\\w{1,40}\\s?){1,20}$',
];

describe('the engine chosen for a pattern', () => {
  it('is never native for a pattern of the catastrophic corpus, nor for other known slow ones', () => {
    for (const { pattern } of CATASTROPHES) expect(engineOf(pattern), String(pattern)).toBe('linear');
    for (const pattern of DANGEROUS) expect(engineOf(pattern), pattern).toBe('linear');
  });

  it('is native for typical validation patterns', () => {
    for (const pattern of [
      '^[a-z_]{1,64}$',
      '^\\d+$',
      '^[A-Z]',
      /^[a-z]+$/i,
      'abc',
      '^\\w+@example\\.com$',
      '\\d{3}-\\d{4}',
      /^.{0,200}$/s,
    ]) {
      expect(engineOf(pattern), String(pattern)).toBe('native');
    }
    expect(engineOf(/^\p{L}+$/u)).toBe('linear'); // each engine has its own Unicode tables: one answer, the linear engine's
  });
});

describe('compiling', () => {
  it('compiles a pattern once for many variables, and still answers right after the cache has turned over', () => {
    expect(compilePattern('^[a-z_]{1,64}$', '', true)).toBe(compilePattern('^[a-z_]{1,64}$', '', true));
    const asString = compilePattern('(?=x)', '', true).refused;
    const asRegExp = compilePattern('(?=x)', '', false).refused;
    expect([asString?.startsWith('pattern "(?=x)"'), asRegExp?.startsWith('pattern /(?=x)/')]).toEqual([true, true]);
    for (let i = 0; i < 300; i++) compilePattern(`^x{${i % 50}}y${i}$`, '', true);
    const again = compilePattern('^[a-z_]{1,64}$', '', true);
    if (again.refused !== undefined) throw new Error(again.refused);
    expect([again.test('max_tokens'), again.test('Max')]).toEqual([true, false]);
  });
});

describe('what a pattern may not be', () => {
  const refusal = (source: string, flags = '') => compilePattern(source, flags, false).refused ?? 'accepted';

  it('refuses each construct the linear engine cannot run, naming it and where it is', () => {
    expect(refusal('a(?=b)')).toContain('a lookahead `(?=` (at offset 1)');
    expect(refusal('(a)b\\1')).toContain('a backreference `\\1` (at offset 4)');
    expect(refusal('(?<x>a)\\k<x>', 'u')).toContain('a named backreference `\\k<x>` (at offset 7)');
    expect(refusal('a$', 'm')).toContain('`$` with flag m (at offset 1), where native RegExp breaks lines at');
    expect(refusal('x', 'v')).toContain('flag v');
  });

  it('refuses what would take long to compile: long patterns, large or nested repeats, deep nesting', () => {
    expect(refusal('a'.repeat(4097))).toContain('4097 characters long, over the limit of 4096');
    expect(refusal('a{1001}')).toContain('a repeat count `{1001}` (at offset 1), above');
    expect(refusal('a{2,1001}')).toContain('a repeat count `{2,1001}`');
    expect(refusal('(?:a{100}){11}')).toContain('repeats nested so that their counts multiply past 1000');
    expect(refusal('(?:a{100}){10}')).toBe('accepted');
    expect(refusal('[ab]{0,999}[ab]{0,999}[ab]{0,999}')).toContain('once its repeats are written out, over the limit of 2000');
    expect(refusal(`${'('.repeat(1001)}a${')'.repeat(1001)}`)).toContain('groups (at offset 1000), nested deeper than 1000');
  });

  it('refuses Unicode properties the linear engine has no table for, and accepts the others', () => {
    expect(refusal('\\p{Emoji}', 'u')).toContain(
      'a Unicode property `\\p{Emoji}` (at offset 0), which the linear-time engine does not know',
    );
    expect(refusal('\\p{scx=Greek}', 'u')).toContain('`\\p{scx=Greek}`');
    expect(refusal('\\p{LC}', 'u')).toContain('`\\p{LC}`');
    expect(refusal('[\\p{sc=Latn}]', 'u')).toContain(
      '`\\p{sc=Latn}`, which the linear-time engine does not know (it knows long script names',
    );
    for (const source of [
      '\\p{L}',
      '\\p{Lu}',
      '\\p{Lowercase_Letter}',
      '\\p{gc=Nd}',
      '\\p{General_Category=Letter}',
      '\\p{Script=Greek}',
      '\\p{sc=Latin}',
    ]) {
      expect(refusal(`^${source}+$`, 'u'), source).toBe('accepted');
    }
  });
});

describe('reading a pattern as JavaScript does', () => {
  const VALUES = [
    '',
    'a',
    'b',
    '-',
    '\b',
    'p',
    'p{L}',
    'A',
    'é',
    'Ω',
    'α',
    '1',
    ' ',
    '👍',
    '\u{1F44E}',
    '\x7f',
    '\x80',
    '\ud83d',
    'ab',
    'Ab',
  ];
  const cases: ReadonlyArray<readonly [string, string]> = [
    ['^[\\b]$', ''],
    ['^[\\-a]$', 'u'],
    ['^\\p{L}$', ''], // without u, \p is a p
    ['^\\p{ASCII}$', 'u'],
    ['^\\P{ASCII}$', 'u'],
    ['^[\\p{Any}]$', 'u'],
    ['^[^\\P{Any}]$', 'u'],
    ['^\\P{Any}$', 'u'],
    ['^\\p{Script=Greek}$', 'u'],
    ['^\\p{sc=Latin}+$', 'u'],
    ['^\\p{Lowercase_Letter}$', 'u'],
    ['^\\P{gc=Lu}$', 'u'],
    ['^[\\p{Lu}\\d]+$', 'u'],
    ['^👍$', 'u'],
    ['^\\uD83D\\uDC4D$', 'u'],
    ['^\\u{1F44D}$', 'u'],
    ['^[👍👎]$', 'u'],
    ['^\\x7f\\x80?$', ''],
    ['^[^\\x00-\\x7f]$', 'u'],
  ];

  it('answers as native RegExp does on escapes, class members and properties', () => {
    for (const [source, flags] of cases) {
      const compiled = compilePattern(source, flags, false);
      if (compiled.refused !== undefined) throw new Error(compiled.refused);
      const reference = new RegExp(source, flags);
      for (const value of VALUES)
        expect(compiled.test(value), `/${source}/${flags} on ${JSON.stringify(value)}`).toBe(reference.test(value));
    }
  });

  it('treats a surrogate pair written without u as the one character it encodes', () => {
    const raw = compilePattern('^👍$', '', true);
    const escaped = compilePattern('^\\uD83D\\uDC4D$', '', true);
    if (raw.refused !== undefined || escaped.refused !== undefined) throw new Error('refused');
    expect([raw.test('👍'), escaped.test('👍'), raw.test('\ud83d')]).toEqual([true, true, false]);
  });
});

// ─── a backtracking matcher that counts its steps ───────────────────────────
// It explores the tree as a backtracking engine does (alternatives in order,
// greedy or lazy repeats, an empty iteration ends a loop, as in ECMAScript) and
// counts each set, anchor and boundary it tests. If the bound were wrong for
// some pattern, a value would make this count exceed it.

const WORD = /[0-9A-Za-z_]/;
const isWord = (c: number | undefined) => c !== undefined && c < 0x80 && WORD.test(String.fromCharCode(c));

function inSet(node: PatternNode & { kind: 'set' }, c: number): boolean {
  let found = node.ranges.some(([lo, hi]) => c >= lo && c <= hi);
  for (const shared of node.escapes) {
    const hit = { '\\d': /\d/, '\\D': /\D/, '\\w': /\w/, '\\W': /\W/ }[shared]?.test(String.fromCodePoint(c)) ?? false;
    found ||= hit;
  }
  return node.negated ? !found : found;
}

function countSteps(tree: PatternNode, text: number[]): { matched: boolean; steps: number } {
  let steps = 0;
  const match = (node: PatternNode, pos: number, k: (pos: number) => boolean): boolean => {
    switch (node.kind) {
      case 'set':
        steps++;
        return pos < text.length && inSet(node, text[pos] as number) && k(pos + 1);
      case 'assert': {
        steps++;
        const ok =
          node.what === 'start'
            ? pos === 0
            : node.what === 'end'
              ? pos === text.length
              : (isWord(text[pos - 1]) !== isWord(text[pos])) === (node.what === 'word');
        return ok && k(pos);
      }
      case 'seq': {
        const from = (i: number, p: number): boolean =>
          i === node.items.length ? k(p) : match(node.items[i] as PatternNode, p, (q) => from(i + 1, q));
        return from(0, pos);
      }
      case 'alt':
        return node.branches.some((branch) => match(branch, pos, k));
      case 'repeat': {
        const loop = (count: number, p: number): boolean => {
          if (count < node.min) return match(node.body, p, (q) => loop(count + 1, q));
          const more = () => count < node.max && match(node.body, p, (q) => q !== p && loop(count + 1, q));
          return node.lazy ? k(p) || more() : more() || k(p);
        };
        return loop(0, pos);
      }
    }
  };
  for (let start = 0; start <= text.length; start++) if (match(tree, start, () => true)) return { matched: true, steps };
  return { matched: false, steps };
}

const PIECES = ['a', 'b', '[ab]', '[^a]', '.', '\\d', '\\w', '\\W', 'x', '^', '$', '\\b'];
const QUANTIFIED = ['', '', '*', '+', '?', '{0,3}', '{2}', '{1,4}', '*?', '+?'];
const piece = fc
  .tuple(fc.constantFrom(...PIECES), fc.constantFrom(...QUANTIFIED))
  .map(([p, q]) => (p === '^' || p === '$' || p === '\\b' ? p : p + q));
const generated: fc.Arbitrary<string> = fc
  .letrec<{ alt: string; seq: string; term: string }>((tie) => ({
    alt: fc.array(tie('seq'), { minLength: 1, maxLength: 3 }).map((seqs) => seqs.join('|')),
    seq: fc.array(tie('term'), { minLength: 1, maxLength: 4 }).map((terms) => terms.join('')),
    term: fc.oneof(
      { weight: 4, arbitrary: piece },
      { weight: 1, arbitrary: fc.tuple(tie('alt'), fc.constantFrom(...QUANTIFIED)).map(([body, q]) => `(?:${body})${q}`) },
    ),
  }))
  .alt.chain((p) => fc.constantFrom(p, `^(?:${p})`)); // anchored patterns are the ones that may have a star
// Values that backtracking engines find hard: a short unit repeated, then a character that breaks the match.
const hostile = fc
  .tuple(
    fc.string({ unit: fc.constantFrom('a', 'b', 'x', '1', ' '), minLength: 1, maxLength: 3 }),
    fc.integer({ min: 0, max: 300 }),
    fc.constantFrom('', '!', 'b', 'a', 'x'),
  )
  .map(([unit, times, tail]) => unit.repeat(times) + tail);

describe('the bound that lets native RegExp check a pattern', () => {
  it('holds for a counting backtracking matcher, on generated patterns and hostile values', () => {
    let bounded = 0;
    fc.assert(
      fc.property(generated, fc.array(hostile, { minLength: 1, maxLength: 6 }), (source, values) => {
        let tree: PatternNode;
        try {
          new RegExp(source);
          tree = readPattern(source, { unicode: false, dotAll: false, multiline: false });
        } catch {
          return;
        }
        const cost = backtrackingCost(tree);
        if (!cost) return;
        bounded++;
        for (const value of values) {
          const { matched, steps } = countSteps(
            tree,
            [...value].map((c) => c.codePointAt(0) as number),
          );
          expect(matched, `/${source}/ on ${JSON.stringify(value)}`).toBe(new RegExp(source).test(value));
          expect(
            steps,
            `/${source}/ on ${JSON.stringify(value)}: ${steps} steps, bound ${cost.a} + ${cost.b}·${value.length}`,
          ).toBeLessThanOrEqual(cost.a + cost.b * value.length);
        }
      }),
      { numRuns: Number(process.env.PATTERN_RUNS ?? 1000), seed: Number(process.env.PATTERN_SEED ?? 0x13) },
    );
    expect(bounded).toBeGreaterThan(100);
  });

  it('refuses the counter-examples a naive rule would accept', () => {
    // Each has at most one star, yet is slow: the star is repeated, or follows another, or the pattern is unanchored.
    for (const source of ['^(?:a*){2}$', '^a*(?:b|a*)$', 'a*$', '^(?:a*b?){3}$']) {
      expect(backtrackingCost(readPattern(source, { unicode: false, dotAll: false, multiline: false })), source).toBeUndefined();
    }
  });
});
