// The two backends, side by side: the same history gives the same export,
// and each imports the other's snapshot exactly.

import { expect, it } from 'vitest';
import { JsLocalState, LocalState } from '../dist/index.js';
import type { Factory } from './conformance/backend.js';
import { richStore } from './conformance/snapshot.js';

/** An export through JSON, without what may differ: times, the session id, and the fields naming the backend. */
function comparable(snapshot: unknown): unknown {
  const copy = JSON.parse(JSON.stringify(snapshot));
  delete copy.sessionId;
  delete copy.metadata;
  for (const variable of Object.values(copy.variables) as Array<Record<string, unknown>>) {
    delete variable.createdAt;
    delete variable.lastUpdatedAt;
  }
  return copy;
}

const wasm: Factory<'sync'> = (options) => LocalState.init(options);
const js: Factory<'sync'> = (options) => JsLocalState.init(options);

it('the same history exports the same state from both backends', async () => {
  const a = await richStore(wasm);
  const b = await richStore(js);
  expect(comparable(a.exportState())).toEqual(comparable(b.exportState()));
  expect(a.exportState().metadata.backend).toBe('wasm');
  expect(b.exportState().metadata.backend).toBe('js');
});

it('each backend imports the other one’s snapshot exactly, through JSON', async () => {
  for (const [from, to] of [
    [wasm, js],
    [js, wasm],
  ] as const) {
    const source = await richStore(from);
    const target = await to({ existingState: JSON.parse(JSON.stringify(source.exportState())) });
    const strip = (list: unknown) =>
      JSON.stringify(list, (_key, value) => (Object.is(value, -0) ? '-0' : Number.isNaN(value) ? 'NaN' : value));
    expect(strip(target.listVariables())).toBe(strip(source.listVariables()));
  }
});
