// JsLocalState: the same contract with no wasm at all. Every value, numeric
// ones included, sits on its JavaScript record in a Map, validated by the same
// type specs. A supported backend, and the honest baseline the benchmarks
// compare LocalState against.

import { type InitOptions, parseInitOptions } from './options.js';
import { Store } from './store/store.js';

export class JsLocalState extends Store {
  /** Creates a pure-JavaScript store. Asynchronous only to match LocalState.init. */
  static async init(options: InitOptions = {}): Promise<JsLocalState> {
    const { sessionId, existingState } = parseInitOptions(options, 'JsLocalState');
    const state = new JsLocalState(sessionId, undefined);
    if (existingState !== undefined) state.importState(existingState);
    return state;
  }
}
