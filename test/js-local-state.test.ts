import { describe, expect, it } from 'vitest';
import { JsLocalState } from '../dist/index.js';
import { describeConformance } from './conformance/index.js';

describe('JsLocalState (pure JavaScript)', () => {
  describeConformance((options) => JsLocalState.init(options));

  it('names itself in exports and keeps its stats to the shared counters', async () => {
    const s = await JsLocalState.init();
    s.registerVariable('t', 'float', 1);
    expect(s.exportState().metadata.backend).toBe('js');
    expect(Object.keys(s.stats()).sort()).toEqual(['totalOperations', 'totalUpdates', 'variableCount']);
  });
});
