// Reads a JavaScript pattern (one that native RegExp has already accepted) into
// a small tree that both engines can be given: every character, class and `.`
// becomes a set of code points, groups lose their captures (a check only asks
// "does it match"), and what a linear-time engine cannot run is refused by name.
// The grammar is ECMA-262 §22.2.1, with Annex B's extensions when `u` is off.

/** An inclusive range of code points. */
export type Range = readonly [number, number];

/** A Unicode property class, `\p{…}`, by the name the linear engine knows it by. */
export interface Property {
  readonly name: string;
  readonly negated: boolean;
  /** As the pattern wrote it, for messages: `\p{sc=Latn}`. */
  readonly written: string;
}

export type PatternNode =
  /** One code point: in `ranges`, in a shared escape (`\w`, `\W`, `\d`, `\D`) or in a property; or none of them if negated. */
  | {
      readonly kind: 'set';
      readonly negated: boolean;
      readonly ranges: readonly Range[];
      readonly escapes: readonly string[];
      readonly properties: readonly Property[];
    }
  | { readonly kind: 'assert'; readonly what: 'start' | 'end' | 'word' | 'notWord' }
  | { readonly kind: 'seq'; readonly items: readonly PatternNode[] }
  | { readonly kind: 'alt'; readonly branches: readonly PatternNode[] }
  | { readonly kind: 'repeat'; readonly body: PatternNode; readonly min: number; readonly max: number; readonly lazy: boolean };

/** A construct the linear engine cannot run, named as the user wrote it. */
export class Unsupported extends Error {
  override readonly name = 'Unsupported';
}

export const MAX_CODE_POINT = 0x10ffff;
/** RE2's bound on a repeat count; larger counts are refused rather than rewritten. */
export const MAX_REPEAT = 1000;
/** Sets, anchors and branches once every repeat is written out: compiling costs up to ~25 µs for each. */
export const MAX_EXPANDED_SIZE = 2000;
/** RE2's bound on nesting; it also keeps this reader's recursion far from the stack's end. */
export const MAX_NESTING = 1000;

const LINE_TERMINATORS: readonly Range[] = [
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
];
// WhiteSpace and LineTerminator of ECMA-262: RE2's `\s` is only [\t\n\f\r ].
const WHITESPACE: readonly Range[] = [
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
];

/** The code points not in `ranges` (sorted, non-overlapping after `normalize`). */
export function complement(ranges: readonly Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of normalize(ranges)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

export function normalize(ranges: readonly Range[]): Range[] {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: Array<[number, number]> = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

const set = (ranges: readonly Range[], negated = false): PatternNode => ({ kind: 'set', negated, ranges, escapes: [], properties: [] });
const char = (c: number): PatternNode => set([[c, c]]);
const DOT = set(LINE_TERMINATORS, true);
const ANY = set([], true);

const isHighSurrogate = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLowSurrogate = (c: number) => c >= 0xdc00 && c <= 0xdfff;
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isHex = (c: string | undefined) => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const isLetter = (c: string | undefined) => c !== undefined && /^[a-zA-Z]$/.test(c);

const CONTROL_ESCAPES: Readonly<Record<string, number>> = { f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b };

// General categories by their long names; RE2 knows only the short ones.
const CATEGORY_ALIASES: Readonly<Record<string, string>> = {
  Letter: 'L',
  Cased_Letter: 'LC',
  Uppercase_Letter: 'Lu',
  Lowercase_Letter: 'Ll',
  Titlecase_Letter: 'Lt',
  Modifier_Letter: 'Lm',
  Other_Letter: 'Lo',
  Mark: 'M',
  Combining_Mark: 'M',
  Nonspacing_Mark: 'Mn',
  Spacing_Mark: 'Mc',
  Enclosing_Mark: 'Me',
  Number: 'N',
  Decimal_Number: 'Nd',
  digit: 'Nd',
  Letter_Number: 'Nl',
  Other_Number: 'No',
  Punctuation: 'P',
  punct: 'P',
  Connector_Punctuation: 'Pc',
  Dash_Punctuation: 'Pd',
  Open_Punctuation: 'Ps',
  Close_Punctuation: 'Pe',
  Initial_Punctuation: 'Pi',
  Final_Punctuation: 'Pf',
  Other_Punctuation: 'Po',
  Symbol: 'S',
  Math_Symbol: 'Sm',
  Currency_Symbol: 'Sc',
  Modifier_Symbol: 'Sk',
  Other_Symbol: 'So',
  Separator: 'Z',
  Space_Separator: 'Zs',
  Line_Separator: 'Zl',
  Paragraph_Separator: 'Zp',
  Other: 'C',
  Control: 'Cc',
  cntrl: 'Cc',
  Format: 'Cf',
  Unassigned: 'Cn',
  Private_Use: 'Co',
  Surrogate: 'Cs',
};
const SHORT_CATEGORIES = new Set(Object.values(CATEGORY_ALIASES));

/** Capturing groups and whether any is named: decides what `\1` and `\k` mean. */
function scanGroups(source: string): { count: number; named: boolean } {
  let count = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') count++;
      else if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        count++;
        named = true;
      }
    }
  }
  return { count, named };
}

/** The flags that change how a pattern reads; `i` is the engines' own business. */
export interface ReadFlags {
  readonly unicode: boolean;
  readonly dotAll: boolean;
  readonly multiline: boolean;
}

// Sticky, so that reading a token never copies the rest of a long pattern.
const QUANTIFIER = /\{(\d+)(,(\d*))?\}/y;
const DIGITS = /\d+/y;
const OCTAL = /[0-7]{1,3}/y;

function stickyMatch(regexp: RegExp, text: string, at: number): RegExpExecArray | null {
  regexp.lastIndex = at;
  return regexp.exec(text);
}

class Reader {
  private pos = 0;
  private depth = 0;
  private readonly groups: { count: number; named: boolean };
  private readonly unicode: boolean;

  constructor(
    private readonly src: string,
    private readonly flags: ReadFlags,
  ) {
    this.groups = scanGroups(src);
    this.unicode = flags.unicode;
  }

  parse(): PatternNode {
    const node = this.disjunction();
    if (this.pos < this.src.length) this.fail(`\`${this.src[this.pos]}\``);
    if (repeatProduct(node) > MAX_REPEAT) {
      throw new Unsupported(`repeats nested so that their counts multiply past ${MAX_REPEAT}, the linear-time engine's limit`);
    }
    const size = expandedSize(node);
    if (size > MAX_EXPANDED_SIZE) {
      throw new Unsupported(
        `${size} characters, classes and branches once its repeats are written out, over the limit of ${MAX_EXPANDED_SIZE}`,
      );
    }
    return node;
  }

  /** Refuses `construct`, written as the user wrote it, saying why when the reason is not the usual one. */
  private fail(construct: string, at = this.pos, why = 'which the linear-time engine cannot run'): never {
    throw new Unsupported(`${construct} (at offset ${at}), ${why}`);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private eat(text: string): boolean {
    if (!this.src.startsWith(text, this.pos)) return false;
    this.pos += text.length;
    return true;
  }

  private disjunction(): PatternNode {
    const branches = [this.alternative()];
    while (this.eat('|')) branches.push(this.alternative());
    return branches.length === 1 ? (branches[0] as PatternNode) : { kind: 'alt', branches };
  }

  private alternative(): PatternNode {
    const items: PatternNode[] = [];
    while (this.pos < this.src.length && this.peek() !== '|' && this.peek() !== ')') items.push(this.term());
    return items.length === 1 ? (items[0] as PatternNode) : { kind: 'seq', items };
  }

  private term(): PatternNode {
    const start = this.pos;
    const c = this.peek();
    if (c === '^' || c === '$') {
      // Native m breaks lines at \n, \r, U+2028 and U+2029; RE2 only at \n: no exact equivalent.
      if (this.flags.multiline) {
        this.fail(
          `\`${c}\` with flag m`,
          start,
          'where native RegExp breaks lines at \\n, \\r, U+2028 and U+2029 but the linear engine only at \\n',
        );
      }
      this.pos++;
      return { kind: 'assert', what: c === '^' ? 'start' : 'end' };
    }
    if (c === '\\' && (this.peek(1) === 'b' || this.peek(1) === 'B')) {
      this.pos += 2;
      return { kind: 'assert', what: this.src[start + 1] === 'b' ? 'word' : 'notWord' };
    }
    if (this.eat('(?=')) this.fail('a lookahead `(?=`', start);
    if (this.eat('(?!')) this.fail('a negative lookahead `(?!`', start);
    if (this.eat('(?<=')) this.fail('a lookbehind `(?<=`', start);
    if (this.eat('(?<!')) this.fail('a negative lookbehind `(?<!`', start);
    return this.quantified(this.atom());
  }

  private quantified(body: PatternNode): PatternNode {
    const start = this.pos;
    let min: number;
    let max: number;
    const c = this.peek();
    if (c === '*') [min, max] = [0, Number.POSITIVE_INFINITY];
    else if (c === '+') [min, max] = [1, Number.POSITIVE_INFINITY];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const braces = stickyMatch(QUANTIFIER, this.src, this.pos);
      if (!braces) return body; // Annex B: a brace that is not a quantifier is a literal (handled by atom)
      min = Number(braces[1]);
      max = braces[2] === undefined ? min : braces[3] === '' ? Number.POSITIVE_INFINITY : Number(braces[3]);
      this.pos += braces[0].length - 1;
      const largest = Math.max(min, Number.isFinite(max) ? max : 0);
      if (largest > MAX_REPEAT)
        this.fail(`a repeat count \`${braces[0]}\``, start, `above the linear-time engine's limit of ${MAX_REPEAT}`);
    } else return body;
    this.pos++;
    const lazy = this.eat('?');
    return { kind: 'repeat', body, min, max, lazy };
  }

  private atom(): PatternNode {
    const start = this.pos;
    const c = this.peek() as string;
    if (c === '.') {
      this.pos++;
      return this.flags.dotAll ? ANY : DOT;
    }
    if (c === '(') {
      this.pos++;
      if (this.eat('?:')) {
        // non-capturing
      } else if (this.eat('?<')) {
        const end = this.src.indexOf('>', this.pos);
        if (end < 0) this.fail('`(?<`', start);
        this.pos = end + 1;
      } else if (this.peek() === '?') this.fail(`\`${this.src.slice(start, start + 3)}\``, start);
      if (++this.depth > MAX_NESTING) this.fail('groups', start, `nested deeper than ${MAX_NESTING}, the linear-time engine's limit`);
      const body = this.disjunction();
      if (!this.eat(')')) this.fail('an unclosed group `(`', start);
      this.depth--;
      return body;
    }
    if (c === '[') return this.characterClass();
    if (c === '\\') return this.atomEscape();
    if (c === '*' || c === '+' || c === '?' || c === ')' || c === '|') this.fail(`\`${c}\``);
    if (c === '{' && this.unicode) this.fail('`{`');
    return char(this.literal());
  }

  /** A literal character; a surrogate pair is one code point, with or without `u`. */
  private literal(): number {
    const code = this.src.charCodeAt(this.pos);
    const next = this.src.charCodeAt(this.pos + 1);
    if (isHighSurrogate(code) && isLowSurrogate(next)) {
      this.pos += 2;
      return this.src.codePointAt(this.pos - 2) as number;
    }
    this.pos++;
    return code;
  }

  private atomEscape(): PatternNode {
    const start = this.pos;
    this.pos++; // the backslash
    const c = this.peek();
    if (c === undefined) this.fail('a trailing `\\`', start);
    if (isDigit(c) && c !== '0') {
      const digits = (stickyMatch(DIGITS, this.src, this.pos) as RegExpExecArray)[0];
      if (Number(digits) <= this.groups.count || this.unicode) this.fail(`a backreference \`\\${digits}\``, start);
    }
    if (c === 'k' && (this.unicode || this.groups.named)) {
      const end = this.src.indexOf('>', this.pos);
      this.fail(`a named backreference \`${this.src.slice(start, end < 0 ? start + 2 : end + 1)}\``, start);
    }
    const classEscape = this.classEscape();
    if (classEscape) return classEscape;
    return char(this.characterEscape(false));
  }

  /** `\d \D \s \S \w \W \p{…} \P{…}` (the backslash already read), or undefined. */
  private classEscape(): PatternNode | undefined {
    const c = this.peek();
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.pos++;
        return { kind: 'set', negated: false, ranges: [], escapes: [`\\${c}`], properties: [] };
      case 's':
        this.pos++;
        return set(WHITESPACE);
      case 'S':
        this.pos++;
        return set(complement(WHITESPACE));
      case 'p':
      case 'P':
        if (!this.unicode) return undefined;
        return this.property(c === 'P');
      default:
        return undefined;
    }
  }

  private property(negated: boolean): PatternNode {
    const start = this.pos - 1;
    const end = this.src.indexOf('}', this.pos);
    const body = this.src.slice(this.pos + 2, end);
    this.pos = end + 1;
    const written = this.src.slice(start, end + 1);
    const [key, value] = body.includes('=') ? (body.split('=') as [string, string]) : [undefined, body];
    if (value === 'Any') return negated ? set([]) : ANY;
    if (value === 'ASCII' && key === undefined) return set([[0, 0x7f]], negated);
    let name: string | undefined;
    if (key === undefined || key === 'General_Category' || key === 'gc') {
      name = SHORT_CATEGORIES.has(value) ? value : CATEGORY_ALIASES[value];
      if (name === 'LC') name = undefined; // RE2 has no cased-letter class
    } else if (key === 'Script' || key === 'sc') name = value;
    if (name === undefined) this.fail(`a Unicode property \`${written}\``, start, 'which the linear-time engine does not know');
    return { kind: 'set', negated: false, ranges: [], escapes: [], properties: [{ name, negated, written }] };
  }

  /** A character escape (the backslash already read): control, hex, unicode, octal or identity. */
  private characterEscape(inClass: boolean): number {
    const start = this.pos - 1;
    const c = this.peek() as string;
    this.pos++;
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return control;
    if (c === 'c') {
      const letter = this.peek();
      if (isLetter(letter) || (inClass && !this.unicode && (isDigit(letter) || letter === '_'))) {
        this.pos++;
        return (letter as string).charCodeAt(0) % 32;
      }
      this.pos = start + 1; // Annex B: `\c` before anything else is a backslash, then `c` reads as itself
      return 0x5c;
    }
    if (c === '0' && !isDigit(this.peek())) return 0;
    if (isDigit(c)) {
      if (c === '8' || c === '9') return c.charCodeAt(0);
      const octal = (stickyMatch(OCTAL, this.src, this.pos - 1) as RegExpExecArray)[0];
      const digits = Number.parseInt(octal, 8) > 0o377 ? octal.slice(0, 2) : octal;
      this.pos += digits.length - 1;
      return Number.parseInt(digits, 8);
    }
    if (c === 'x' && isHex(this.peek()) && isHex(this.peek(1))) {
      this.pos += 2;
      return Number.parseInt(this.src.slice(this.pos - 2, this.pos), 16);
    }
    if (c === 'u') {
      if (this.unicode && this.peek() === '{') {
        const end = this.src.indexOf('}', this.pos);
        const code = Number.parseInt(this.src.slice(this.pos + 1, end), 16);
        this.pos = end + 1;
        return code;
      }
      const hex = this.src.slice(this.pos, this.pos + 4);
      if (/^[0-9a-fA-F]{4}$/.test(hex)) {
        this.pos += 4;
        const code = Number.parseInt(hex, 16);
        const trail = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})$/.exec(this.src.slice(this.pos, this.pos + 6));
        if (isHighSurrogate(code) && trail) {
          this.pos += 6;
          return (code - 0xd800) * 0x400 + (Number.parseInt(trail[1] as string, 16) - 0xdc00) + 0x10000;
        }
        return code;
      }
    }
    // An identity escape: the character itself (u allows only syntax characters, which native has checked).
    this.pos--;
    return this.literal();
  }

  private characterClass(): PatternNode {
    const start = this.pos;
    this.pos++;
    const negated = this.eat('^');
    const ranges: Range[] = [];
    const escapes: string[] = [];
    const properties: Property[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) this.fail('an unclosed class `[`', start);
      if (c === ']') break;
      const first = this.classAtom();
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        const dash = this.pos;
        this.pos++;
        const second = this.classAtom();
        if (typeof first === 'number' && typeof second === 'number') {
          ranges.push([first, second]);
          continue;
        }
        // Annex B: a class escape at either end makes the `-` a literal.
        if (this.unicode) this.fail('a range with a class escape', dash);
        for (const atom of [first, 0x2d, second]) addAtom(atom, ranges, escapes, properties);
        continue;
      }
      addAtom(first, ranges, escapes, properties);
    }
    this.pos++;
    return { kind: 'set', negated, ranges: normalize(ranges), escapes, properties };
  }

  /** One class member: a code point, or a class escape as a set. */
  private classAtom(): number | PatternNode {
    if (this.peek() !== '\\') return this.literal();
    this.pos++;
    const c = this.peek();
    if (c === 'b') {
      this.pos++;
      return 0x08;
    }
    if (c === '-' && this.unicode) {
      this.pos++;
      return 0x2d;
    }
    return this.classEscape() ?? this.characterEscape(true);
  }
}

function addAtom(atom: number | PatternNode, ranges: Range[], escapes: string[], properties: Property[]): void {
  if (typeof atom === 'number') ranges.push([atom, atom]);
  else if (atom.kind === 'set') {
    // Class escapes are never negated sets: \S and \P come as ranges or negated properties.
    ranges.push(...(atom.negated ? complement(atom.ranges) : atom.ranges));
    escapes.push(...atom.escapes);
    properties.push(...atom.properties);
  }
}

/** The largest product of nested counted repeats (`*`, `+` and `?` do not count), as RE2 measures it. */
function repeatProduct(node: PatternNode): number {
  switch (node.kind) {
    case 'seq':
      return node.items.reduce((most, item) => Math.max(most, repeatProduct(item)), 1);
    case 'alt':
      return node.branches.reduce((most, branch) => Math.max(most, repeatProduct(branch)), 1);
    case 'repeat': {
      const counted = !(node.min <= 1 && (node.max === 1 || node.max === Number.POSITIVE_INFINITY));
      const count = Number.isFinite(node.max) ? node.max : node.min;
      return (counted && count > 0 ? count : 1) * repeatProduct(node.body);
    }
    default:
      return 1;
  }
}

/** What the compiled program grows with: `x{2,5}` counts as five x, `x+` as one. */
function expandedSize(node: PatternNode): number {
  switch (node.kind) {
    case 'seq':
      return node.items.reduce((sum, item) => sum + expandedSize(item), 0);
    case 'alt':
      return node.branches.reduce((sum, branch) => sum + expandedSize(branch), node.branches.length);
    case 'repeat':
      return 1 + expandedSize(node.body) * Math.max(1, Number.isFinite(node.max) ? node.max : node.min);
    default:
      return 1;
  }
}

/** The tree of a pattern native RegExp accepts, or throws `Unsupported` naming the construct. */
export function readPattern(source: string, flags: ReadFlags): PatternNode {
  return new Reader(source, flags).parse();
}
