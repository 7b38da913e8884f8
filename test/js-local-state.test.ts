import { describe, expect, it } from 'vitest';
import { JsLocalState } from '../dist/index.js';
import type { BackendOptions } from './conformance/backend.js';
import { describeConformance } from './conformance/index.js';

describe('JsLocalState (pure JavaScript)', () => {
  describeConformance(
    Object.assign((options?: BackendOptions) => JsLocalState.init(options), {
      synchronousCalls: true,
      synchronousDelivery: true,
      capabilities: { atomicUpdates: true, streaming: true, persistent: false, distributed: false },
    }),
  );

  it('names itself in exports and keeps its stats to the shared counters', async () => {
    const s = await JsLocalState.init();
    s.registerVariable('t', 'float', 1);
    expect(s.exportState().metadata.backend).toBe('js');
    expect(Object.keys(s.stats()).sort()).toEqual(['totalOperations', 'totalUpdates', 'variableCount']);
  });
});
