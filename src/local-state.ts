// LocalState: the WebAssembly-backed store. Float, integer and boolean values
// live in a wasm table of its own; everything else is the shared Store.

import { invalidArgument, StateError } from './errors.js';
import { type InitOptions, parseInitOptions } from './options.js';
import { openPersisted } from './persist/open.js';
import type { WasmStateStats } from './provider.js';
import { NumericTable } from './storage/numeric-table.js';
import { Store } from './store/store.js';
import { instantiateCore } from './wasm.js';

export class LocalState extends Store {
  /**
   * Creates a store with its own wasm table. The module is compiled once per process. With `persist`,
   * the store is recovered from its directory (or the directory is created) and every write is journaled.
   */
  static async init(options: InitOptions = {}): Promise<LocalState> {
    const { sessionId, existingState, maxMemoryBytes, initialCapacity, persist } = parseInitOptions(options, 'LocalState');
    const make = async (session: string | undefined): Promise<LocalState> => {
      const core = await instantiateCore();
      const pageSize = core.constants.PAGE_SIZE;
      const maxPages = maxMemoryBytes === undefined ? 0 : Math.floor(maxMemoryBytes / pageSize);
      if (maxMemoryBytes !== undefined && maxPages < 1) {
        throw invalidArgument(`LocalState.init: maxMemoryBytes must be at least ${pageSize} (one wasm page), got ${maxMemoryBytes}`, {
          rule: 'maxMemoryBytes',
        });
      }
      const status = core.exports.ls_init(initialCapacity ?? 0, maxPages);
      if (status !== core.constants.STATUS_OK) {
        throw new StateError('out_of_memory', `LocalState.init: no room for ${initialCapacity ?? 0} variables within maxMemoryBytes`, {
          rule: 'maxMemoryBytes',
        });
      }
      return new LocalState(session, new NumericTable(core)); // the table refreshes its view of the grown memory
    };
    if (persist !== undefined) return openPersisted(persist, { sessionId, existingState }, make, 'wasm');
    const state = await make(sessionId);
    if (existingState !== undefined) state.importState(existingState);
    return state;
  }

  override stats(): WasmStateStats {
    const counters = super.stats();
    const core = (this.table as NumericTable).core;
    const exports = core.exports;
    return {
      ...counters,
      tableEntries: exports.ls_count(),
      tableCapacity: exports.ls_capacity(),
      tableRehashes: exports.ls_rehash_count(),
      wasmMemoryBytes: core.memoryBytes(),
    };
  }
}
