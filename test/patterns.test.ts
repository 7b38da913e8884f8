// The pattern corpus (test/conformance/patterns.ts) against every backend.

import { describe } from 'vitest';
import { JsLocalState, LocalState } from '../dist/index.js';
import { patternTests } from './conformance/patterns.js';

describe('LocalState (wasm)', () => {
  patternTests((options) => LocalState.init(options));
});

describe('JsLocalState (pure JavaScript)', () => {
  patternTests((options) => JsLocalState.init(options));
});
