// What a string pattern costs a write: setVariable by name on a string with no
// pattern, with a typical pattern that native RegExp checks (proven cheap), and
// with one that the linear-time engine (re2js) checks. Reported, no target.

import { LocalState } from '../dist/index.js';
import { assertEqual, type Case } from './harness.js';

/** `ab_cd`-style names from an index: lower-case words joined by `_`, valid for every pattern below. */
function snakeName(i: number): string {
  const word = (n: number) => Array.from({ length: 3 + (n % 5) }, (_, k) => String.fromCharCode(97 + ((n * 7 + k * 3) % 26))).join('');
  return `${word(i)}_${word(i + 11)}`;
}

const PATTERNS = {
  'no pattern': undefined,
  'native: ^[a-z_]{1,64}$': '^[a-z_]{1,64}$',
  'linear: ^[a-z]+(?:_[a-z]+)*$': '^[a-z]+(?:_[a-z]+)*$',
} as const;

export async function patternSetCase(): Promise<Case> {
  const values = Array.from({ length: 64 }, (_, i) => snakeName(i));
  const store = await LocalState.init();
  const contenders = Object.entries(PATTERNS).map(([label, pattern], k) => {
    const name = `s${k}`;
    store.registerVariable(name, 'string', values[0] as string, pattern ? { constraints: { pattern } } : {});
    let i = 0;
    return {
      label,
      fn: () => {
        i++;
        store.setVariable(name, values[i & 63] as string);
      },
      check: () => {
        store.setVariable(name, 'abc_def');
        assertEqual(store.getVariable(name), 'abc_def', `set ${label}`);
        let refused = false;
        try {
          store.setVariable(name, 'Not-Snake');
        } catch {
          refused = true;
        }
        assertEqual(refused, pattern !== undefined, `${label} refuses "Not-Snake"`);
      },
    };
  });
  return {
    id: 'pattern-set',
    title: 'setVariable by name, string of ~10 characters, with and without a pattern (wasm store; strings are records in both)',
    contenders,
    targets: [],
  };
}
