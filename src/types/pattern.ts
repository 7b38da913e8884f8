// The one place that knows which engine checks a string pattern. Every pattern
// is compiled for re2js, a pure-JavaScript port of RE2 whose checks take time
// linear in the value's length. A pattern that pattern-cost.ts proves cheap for
// a backtracking engine is checked by native RegExp instead (~20× faster per
// check); both are given the same tree, so they agree on every value.
//
// Semantics: the pattern is read as JavaScript reads it (with or without u),
// and matched on code points with Unicode case folding under i, as native
// RegExp does with the u flag. What the linear engine cannot run is refused.

import { RE2JS } from 're2js';
import { backtrackingCost } from './pattern-cost.js';
import { MAX_CODE_POINT, type PatternNode, type Property, readPattern, Unsupported } from './pattern-syntax.js';

export type PatternEngine = 'native' | 'linear' | 'literal';

export type CompiledPattern =
  | { readonly refused: undefined; readonly engine: PatternEngine; readonly test: (value: string) => boolean }
  | { readonly refused: string };

// g and y only make test() stateful and d only records indices: none changes
// whether a value matches, so they are ignored. i, s and u are honoured; m is
// honoured where it changes nothing (it is refused with ^ or $, see pattern-syntax.ts).
const REFUSED_FLAGS: Readonly<Record<string, string>> = {
  v: 'flag v (set notation and string classes have no equivalent in the linear engine; use u)',
};

/** Longer patterns are refused: compiling takes several milliseconds per 1,000 characters. */
export const MAX_PATTERN_LENGTH = 4096;

function describePattern(source: string, flags: string, fromString: boolean): string {
  const text = fromString ? JSON.stringify(source) : `/${source}/${flags}`;
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// Compiling costs 20 µs to 1 ms (re2js writes repeats out), and variables often
// share a pattern (an import of many, a family of names): the last few hundred
// compiled patterns are kept. A compiled pattern holds no state between checks.
const CACHE_SIZE = 256;
const cache = new Map<string, CompiledPattern>();

/**
 * Compiles a pattern for every later check. `source` is a RegExp source; a string pattern passes
 * no flags. `allowNative: false` keeps the linear engine even for a cheap pattern (tests compare engines).
 */
export function compilePattern(source: string, flags: string, fromString: boolean, allowNative = true): CompiledPattern {
  if (source.length > MAX_PATTERN_LENGTH) return compileUncached(source, flags, fromString, allowNative);
  const key = `${fromString ? 's' : 'r'}${allowNative ? 'n' : 'l'}${flags}/${source}`;
  let compiled = cache.get(key);
  if (compiled === undefined) {
    compiled = compileUncached(source, flags, fromString, allowNative);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(key, compiled);
  }
  return compiled;
}

function compileUncached(source: string, flags: string, fromString: boolean, allowNative: boolean): CompiledPattern {
  try {
    new RegExp(source, flags);
  } catch {
    // Only a source string can fail here (a RegExp was valid): the origin matches it literally.
    return { refused: undefined, engine: 'literal', test: (value) => value.includes(source) };
  }
  const written = describePattern(source, flags, fromString);
  if (source.length > MAX_PATTERN_LENGTH) {
    return {
      refused: `pattern ${written} is ${source.length} characters long, over the limit of ${MAX_PATTERN_LENGTH} (compiling grows with length)`,
    };
  }
  for (const flag of flags) {
    const why = REFUSED_FLAGS[flag];
    if (why) return { refused: `pattern ${written} uses ${why}` };
  }
  let tree: PatternNode;
  try {
    tree = readPattern(source, { unicode: flags.includes('u'), dotAll: flags.includes('s'), multiline: flags.includes('m') });
  } catch (error) {
    if (!(error instanceof Unsupported)) throw error;
    return { refused: `pattern ${written} uses ${error.message}` };
  }
  const unknown = propertiesOf(tree).find((property) => !knownProperty(property.name));
  if (unknown) {
    return {
      refused: `pattern ${written} uses a Unicode property \`${unknown.written}\`, which the linear-time engine does not know (it knows long script names: Script=Latin, not sc=Latn)`,
    };
  }
  const ignoreCase = flags.includes('i');
  let linear: RE2JS;
  try {
    linear = RE2JS.compile(`${ignoreCase ? '(?i)' : ''}${emit(tree, re2Char, re2Property)}`);
  } catch (error) {
    return { refused: `pattern ${written} is beyond the linear engine (${error instanceof Error ? error.message : String(error)})` };
  }
  const native = allowNative ? nativeTwin(tree, ignoreCase) : undefined;
  if (!native) return { refused: undefined, engine: 'linear', test: (value) => linear.test(value) };
  return {
    refused: undefined,
    engine: 'native',
    test: (value) => {
      try {
        return native.test(value);
      } catch {
        return linear.test(value); // a backtracking stack that overflows (never seen): same answer, linear time
      }
    },
  };
}

/**
 * The native RegExp for a pattern proven cheap, or undefined. Excluded too:
 * Unicode properties (each engine has its own Unicode tables) and \b with i
 * (native then counts ſ and K (U+212A) as word characters, RE2 does not).
 */
function nativeTwin(tree: PatternNode, ignoreCase: boolean): RegExp | undefined {
  if (uses(tree, (n) => n.kind === 'set' && n.properties.length > 0)) return undefined;
  if (ignoreCase && uses(tree, (n) => n.kind === 'assert' && (n.what === 'word' || n.what === 'notWord'))) return undefined;
  if (!backtrackingCost(tree)) return undefined;
  return new RegExp(
    emit(tree, nativeChar, () => ''),
    ignoreCase ? 'iu' : 'u',
  );
}

function propertiesOf(node: PatternNode): Property[] {
  if (node.kind === 'set') return [...node.properties];
  if (node.kind === 'seq') return node.items.flatMap(propertiesOf);
  if (node.kind === 'alt') return node.branches.flatMap(propertiesOf);
  if (node.kind === 'repeat') return propertiesOf(node.body);
  return [];
}

const propertyKnown = new Map<string, boolean>();

/** Whether re2js has a table for `\p{name}` (it knows fewer aliases than V8). */
function knownProperty(name: string): boolean {
  let known = propertyKnown.get(name);
  if (known === undefined) {
    try {
      RE2JS.compile(`\\p{${name}}`);
      known = true;
    } catch {
      known = false;
    }
    propertyKnown.set(name, known);
  }
  return known;
}

function uses(node: PatternNode, test: (node: PatternNode) => boolean): boolean {
  if (test(node)) return true;
  if (node.kind === 'seq') return node.items.some((item) => uses(item, test));
  if (node.kind === 'alt') return node.branches.some((branch) => uses(branch, test));
  if (node.kind === 'repeat') return uses(node.body, test);
  return false;
}

// Letters and digits as themselves (shorter to compile); everything else escaped, so nothing reads as syntax.
const ALNUM = /^[0-9A-Za-z]$/;
const re2Char = (c: number) => (c < 0x80 && ALNUM.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `\\x{${c.toString(16)}}`);
const nativeChar = (c: number) => (c < 0x80 && ALNUM.test(String.fromCharCode(c)) ? String.fromCharCode(c) : `\\u{${c.toString(16)}}`);
const re2Property = (name: string, negated: boolean) => `\\${negated ? 'P' : 'p'}{${name}}`;

function quantifier(min: number, max: number): string {
  if (max === Number.POSITIVE_INFINITY) return min === 0 ? '*' : min === 1 ? '+' : `{${min},}`;
  if (min === 0 && max === 1) return '?';
  return `{${min},${max}}`;
}

/** The tree as pattern text: every code point escaped, groups non-capturing. */
function emit(node: PatternNode, char: (c: number) => string, property: (name: string, negated: boolean) => string): string {
  switch (node.kind) {
    case 'set': {
      const parts = node.ranges.map(([lo, hi]) => (lo === hi ? char(lo) : `${char(lo)}-${char(hi)}`));
      parts.push(...node.escapes, ...node.properties.map((p) => property(p.name, p.negated)));
      if (parts.length === 0) return node.negated ? `[${char(0)}-${char(MAX_CODE_POINT)}]` : `[^${char(0)}-${char(MAX_CODE_POINT)}]`;
      return `[${node.negated ? '^' : ''}${parts.join('')}]`;
    }
    case 'assert':
      return { start: '^', end: '$', word: '\\b', notWord: '\\B' }[node.what];
    case 'seq':
      return `(?:${node.items.map((item) => emit(item, char, property)).join('')})`;
    case 'alt':
      return `(?:${node.branches.map((branch) => emit(branch, char, property)).join('|')})`;
    case 'repeat': {
      const body = node.body.kind === 'set' ? emit(node.body, char, property) : `(?:${emit(node.body, char, property)})`;
      return `${body}${quantifier(node.min, node.max)}${node.lazy ? '?' : ''}`;
    }
  }
}
