// StateProvider is written so that an asynchronous backend can implement it
// too: this file would not type-check (npm test runs tsc) if it could not.

import { expect, it } from 'vitest';
import { LocalState, type StateProvider, type VariableType } from '../dist/index.js';

/** An asynchronous backend: every method returns a promise, as a remote store would. */
class AsyncAdapter implements StateProvider<'async'> {
  constructor(private readonly inner: LocalState) {}
  get sessionId() {
    return this.inner.sessionId;
  }
  registerVariable(name: string, type: VariableType, value: unknown) {
    return Promise.resolve(this.inner.registerVariable(name, type, value));
  }
  getVariable(identifier: string) {
    return Promise.resolve(this.inner.getVariable(identifier));
  }
  setVariable(identifier: string, value: unknown, metadata?: Readonly<Record<string, unknown>>) {
    return Promise.resolve(this.inner.setVariable(identifier, value, metadata));
  }
  getVariables(identifiers: readonly string[]) {
    return Promise.resolve(this.inner.getVariables(identifiers));
  }
  updateVariables(updates: Readonly<Record<string, unknown>>) {
    return Promise.resolve(this.inner.updateVariables(updates));
  }
  listVariables() {
    return Promise.resolve(this.inner.listVariables());
  }
  deleteVariable(identifier: string) {
    return Promise.resolve(this.inner.deleteVariable(identifier));
  }
  exportState() {
    return Promise.resolve(this.inner.exportState());
  }
  importState(snapshot: unknown) {
    return Promise.resolve(this.inner.importState(snapshot));
  }
  capabilities() {
    return this.inner.capabilities();
  }
  requiresBridge() {
    return true;
  }
  stats() {
    return Promise.resolve(this.inner.stats());
  }
  cleanup() {
    return Promise.resolve(this.inner.cleanup());
  }
}

/** Code written against any backend awaits every result. */
async function bumpTemperature(provider: StateProvider): Promise<number> {
  await provider.setVariable('temperature', ((await provider.getVariable('temperature')) as number) + 0.1);
  return (await provider.getVariable('temperature')) as number;
}

it('one generic function drives a synchronous and an asynchronous backend', async () => {
  const sync = await LocalState.init();
  sync.registerVariable('temperature', 'float', 0.5);
  const remote = new AsyncAdapter(await LocalState.init());
  await remote.registerVariable('temperature', 'float', 0.5);
  expect(await bumpTemperature(sync)).toBeCloseTo(0.6);
  expect(await bumpTemperature(remote)).toBeCloseTo(0.6);
  // The synchronous backend's results are plain values, not promises.
  expect(sync.getVariable('temperature')).toBeCloseTo(0.6);
});
