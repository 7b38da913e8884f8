// JsLocalState: the same contract with no wasm at all. Every value, numeric
// ones included, sits on its JavaScript record in a Map, validated by the same
// type specs. A supported backend, and the honest baseline the benchmarks
// compare LocalState against.

import { type InitOptions, parseInitOptions } from './options.js';
import { openPersisted } from './persist/open.js';
import { Store } from './store/store.js';

export class JsLocalState extends Store {
  /** Creates a pure-JavaScript store (with `persist`, recovered from or kept in a directory). Asynchronous to match LocalState.init. */
  static async init(options: InitOptions = {}): Promise<JsLocalState> {
    const { sessionId, existingState, persist } = parseInitOptions(options, 'JsLocalState');
    const make = async (session: string | undefined) => new JsLocalState(session, undefined);
    if (persist !== undefined) return openPersisted(persist, { sessionId, existingState }, make, 'js');
    const state = await make(sessionId);
    if (existingState !== undefined) state.importState(existingState);
    return state;
  }
}
