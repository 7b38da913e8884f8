// string, choice and module: string values held in JavaScript.

import { z } from 'zod';
import { compilePattern } from './pattern.js';
import type { TypeSpec, Violation } from './spec.js';

export interface StringConstraints {
  readonly minLength?: number | undefined;
  readonly maxLength?: number | undefined;
  /**
   * A RegExp source string, or a RegExp, checked in time linear in the value's length (see pattern.ts).
   * An invalid source string matches literally; lookaround, backreferences and flag v are refused.
   */
  readonly pattern?: string | RegExp | undefined;
  readonly enum?: readonly string[] | undefined;
}

interface StringRules {
  readonly minLength: number;
  readonly maxLength: number;
  /** The compiled check (g/y play no part in it, so checks never flip). */
  readonly pattern: ((value: string) => boolean) | undefined;
  readonly patternText: string | undefined;
  /** Why the pattern cannot be checked, for crossCheck to refuse it. */
  readonly patternRefused: string | undefined;
  readonly enum: ReadonlySet<string> | undefined;
}

const length = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const stringList = z.array(z.string()).min(1);

const stringSchema = z.strictObject({
  minLength: length.optional(),
  maxLength: length.optional(),
  pattern: z.union([z.string(), z.instanceof(RegExp)]).optional(),
  enum: stringList.optional(),
});

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
// Below U+0300 (combining marks start there) and without CR (CR LF is one
// cluster), every UTF-16 unit is one grapheme cluster: count them directly.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what this range must include
const SIMPLE_TEXT = /^[\0-\x0c\x0e-\u02ff]*$/;

/** User-perceived characters (extended grapheme clusters), as the origin counts String.length. */
export function graphemeLength(text: string): number {
  if (SIMPLE_TEXT.test(text)) return text.length;
  let count = 0;
  for (const _ of segmenter.segment(text)) count++;
  return count;
}

function compileRules(c: StringConstraints): StringRules {
  const compiled =
    c.pattern === undefined
      ? undefined
      : c.pattern instanceof RegExp
        ? compilePattern(c.pattern.source, c.pattern.flags, false)
        : compilePattern(c.pattern, '', true);
  return {
    minLength: c.minLength ?? 0,
    maxLength: c.maxLength ?? Number.POSITIVE_INFINITY,
    pattern: compiled?.refused === undefined ? compiled?.test : undefined,
    patternText: c.pattern === undefined ? undefined : String(c.pattern),
    patternRefused: compiled?.refused,
    enum: c.enum ? new Set(c.enum) : undefined,
  };
}

function copyStringConstraints(c: StringConstraints): StringConstraints {
  const copy: { -readonly [K in keyof StringConstraints]: StringConstraints[K] } = { ...c };
  if (c.pattern instanceof RegExp) copy.pattern = new RegExp(c.pattern.source, c.pattern.flags);
  if (c.enum) copy.enum = [...c.enum];
  return copy;
}

const encodedPattern = z.strictObject({ regexp: z.string(), flags: z.string() });

const isString = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

export const stringSpec: TypeSpec<StringConstraints, StringRules> = {
  type: 'string',
  numeric: false,
  expects: 'a string',
  constraintSchema: stringSchema,
  compile: compileRules,
  crossCheck: (c, rules) =>
    c.minLength !== undefined && c.maxLength !== undefined && c.minLength > c.maxLength
      ? `minLength (${c.minLength}) is greater than maxLength (${c.maxLength})`
      : rules.patternRefused,
  coerce: isString,
  violation: (value, rules): Violation | undefined => {
    const text = value as string;
    if (rules.enum && !rules.enum.has(text)) return { rule: 'enum', expected: `one of ${[...rules.enum].join(', ')}` };
    // A cluster is at least one UTF-16 unit, so the unit count bounds the cluster count from above:
    // a text no longer in units than maxLength, and not empty when minLength is 1, passes both
    // without being segmented (the common case: a length limit well above the text).
    const units = text.length;
    if (units > rules.maxLength || rules.minLength > (units === 0 ? 0 : 1)) {
      const n = graphemeLength(text);
      if (n < rules.minLength) return { rule: 'minLength', expected: `at least ${rules.minLength} characters, got ${n}` };
      if (n > rules.maxLength) return { rule: 'maxLength', expected: `at most ${rules.maxLength} characters, got ${n}` };
    }
    if (rules.pattern !== undefined && !rules.pattern(text)) {
      return { rule: 'pattern', expected: `must match ${rules.patternText}` };
    }
    return undefined;
  },
  encode: (value) => value,
  decode: isString,
  encodeConstraints: (c) => {
    const copy: Record<string, unknown> = copyStringConstraints(c) as Record<string, unknown>;
    if (c.pattern instanceof RegExp) copy.pattern = { regexp: c.pattern.source, flags: c.pattern.flags };
    return copy;
  },
  decodeConstraints: (encoded) => {
    if (encoded === null || typeof encoded !== 'object' || !Object.hasOwn(encoded, 'pattern')) return encoded;
    const parsed = encodedPattern.safeParse((encoded as { pattern: unknown }).pattern);
    if (!parsed.success) return encoded;
    let pattern: RegExp;
    try {
      pattern = new RegExp(parsed.data.regexp, parsed.data.flags);
    } catch {
      return encoded; // left as an object, so the constraint schema rejects it
    }
    return { ...encoded, pattern };
  },
  copyConstraints: copyStringConstraints,
};

function listSpec(
  type: 'choice' | 'module',
  key: 'choices' | 'allowedModules',
  required: boolean,
): TypeSpec<Readonly<Record<string, readonly string[] | undefined>>, ReadonlySet<string> | undefined> {
  const list = required ? stringList : stringList.optional();
  const copy = (c: Readonly<Record<string, readonly string[] | undefined>>) => {
    const values = c[key];
    return values ? { [key]: [...values] } : {};
  };
  return {
    type,
    numeric: false,
    expects: 'a string',
    constraintSchema: z.strictObject({ [key]: list }) as z.ZodType<Readonly<Record<string, readonly string[] | undefined>>>,
    crossCheck: () => undefined,
    compile: (c) => {
      const values = c[key];
      return values ? new Set(values) : undefined;
    },
    coerce: isString,
    violation: (value, allowed) =>
      allowed && !allowed.has(value as string) ? { rule: key, expected: `one of ${[...allowed].join(', ')}` } : undefined,
    encode: (value) => value,
    decode: isString,
    encodeConstraints: copy,
    decodeConstraints: (encoded) => encoded,
    copyConstraints: copy,
  };
}

/** choice: one of `choices` (required: a choice without choices means nothing). */
export const choiceSpec = listSpec('choice', 'choices', true);
/** module: a module name, limited to `allowedModules` when given. */
export const moduleSpec = listSpec('module', 'allowedModules', false);
