// Rebuilds a store from a snapshot and journal records. Variables are added
// through Store.add, as registration and import add them; values are written
// through the table's own validated call (wasm checks type and bounds again)
// or checkWrite for records, with the recorded clock reading. The result is
// the store the writes made: values (NaN, -0), versions, metadata, times,
// registration order, the next serial and order, the counters and the last
// import. test/persist/replay.test.ts holds it to a store that made the same
// writes directly.

import { checkWrite } from '../checks.js';
import { copyMetadata, type Metadata, mergeMetadata } from '../metadata.js';
import type { NumericTable } from '../storage/numeric-table.js';
import { records } from '../storage/records.js';
import type { Target } from '../storage/storage.js';
import type { Variable } from '../storage/variable.js';
import type { Store } from '../store/store.js';
import type { VariableValue } from '../types/index.js';
import { type ByteReader, type DecodedVariable, decodeVariable } from './codec.js';
import { RECORD } from './format.js';

/** Counters and session facts a snapshot carries besides its variables. */
export interface SnapshotHeader {
  readonly nextSerial: number;
  readonly nextOrder: number;
  readonly totalOperations: number;
  readonly totalUpdates: number;
  readonly lastImport: Readonly<Record<string, string | number>> | null;
  readonly variables: number;
  readonly numeric: number;
  /** The latest clock reading any variable carries. */
  readonly lastTime: number;
}

export class Replayer {
  /** Journal records applied (clock readings aside). */
  records = 0;
  /** The latest clock reading seen (the snapshot header keeps it). */
  latest = 0;
  private now = 0;
  private readonly byOrder = new Map<number, Target>();
  private readonly table: NumericTable | undefined;
  /** Metadata of the batch being replayed, and how many of its writes are still to come. */
  private batchExtra: Metadata | undefined = undefined;
  private batchLeft = 0;

  constructor(private readonly store: Store) {
    this.table = store.table;
  }

  /** Adds a variable from a snapshot, a registration or an import, at the order it had. */
  addVariable(v: DecodedVariable, input: ByteReader): void {
    if (this.byOrder.has(v.order) || this.store.registry.nameTaken(v.name)) {
      throw input.bad(`variable ${JSON.stringify(v.name)} (order ${v.order}) is there already`);
    }
    this.byOrder.set(v.order, this.store.add(v, v.order));
    if (v.lastUpdatedAt > this.latest) this.latest = v.lastUpdatedAt;
  }

  /** The counters a snapshot carried, after its variables. */
  applySnapshotHeader(header: SnapshotHeader): void {
    const store = this.store;
    store.registry.restore(header.nextSerial, header.nextOrder);
    store.totalOperations = header.totalOperations;
    store.totalUpdates = header.totalUpdates;
    store.lastImport = header.lastImport === null ? undefined : Object.freeze({ ...header.lastImport });
    if (header.lastTime > this.latest) this.latest = header.lastTime;
  }

  /** Applies every record of one journal frame. A frame holds whole operations: a batch may not run past it. */
  applyFrame(input: ByteReader): void {
    while (!input.done) this.applyRecord(input);
    if (this.batchLeft !== 0) throw input.bad(`a batch ends ${this.batchLeft} writes early`);
  }

  private applyRecord(input: ByteReader): void {
    const store = this.store;
    const tag = input.u8();
    switch (tag) {
      case RECORD.TIME: {
        this.now = input.f64();
        store.totalOperations = input.f64();
        if (this.now > this.latest) this.latest = this.now;
        return;
      }
      case RECORD.SET:
      case RECORD.SET_WIDE: {
        const order = tag === RECORD.SET ? input.u32() : input.f64();
        const cell = input.f64();
        const target = this.target(order, input);
        if (typeof target === 'number') {
          const table = this.table as NumericTable;
          const status = table.setAt(target >>> 1, cell, this.now);
          if (status !== table.statusOk)
            throw input.bad(`the write of ${cell} to ${JSON.stringify(table.name(target))} is refused (${status})`);
          table.values[target >>> 1] = table.storedOf(target, cell);
        } else {
          if (!target.spec.numeric) throw input.bad(`a numeric write to ${target.spec.type} variable ${JSON.stringify(target.name)}`);
          this.writeRecord(target, cell, input);
        }
        this.wrote(target);
        break;
      }
      case RECORD.SET_RECORD: {
        const target = this.target(input.f64(), input);
        const encoded = input.json();
        if (typeof target === 'number') throw input.bad('a record write to a numeric variable');
        const value = target.spec.decode(encoded);
        if (value === undefined) throw input.bad(`a write to ${JSON.stringify(target.name)} that is not a ${target.spec.type}`);
        this.writeRecord(target, value, input);
        this.wrote(target);
        break;
      }
      case RECORD.METADATA: {
        const target = this.target(input.f64(), input);
        this.merge(target, this.metadataOf(input));
        return;
      }
      case RECORD.BATCH_META: {
        this.batchLeft = input.u32();
        this.batchExtra = this.metadataOf(input);
        return;
      }
      case RECORD.REGISTER: {
        const variable = decodeVariable(input);
        this.addVariable(variable, input);
        store.registry.restore(variable.serial + 1, variable.order + 1);
        store.totalOperations++;
        break;
      }
      case RECORD.DELETE: {
        const order = input.f64();
        const target = this.target(order, input);
        const storage = store.storageOf(target);
        store.registry.unlink(target, storage.name(target));
        storage.remove(target);
        store.variableCount--;
        store.totalOperations++;
        this.byOrder.delete(order);
        break;
      }
      case RECORD.IMPORT: {
        const count = input.u32();
        const at = input.f64();
        const nextSerial = input.f64();
        if (!Number.isSafeInteger(nextSerial) || nextSerial < 0) throw input.bad(`an import's next serial ${nextSerial}`);
        const sessionId = input.utf16();
        const variables: DecodedVariable[] = [];
        for (let i = 0; i < count; i++) variables.push(decodeVariable(input));
        const numeric = variables.reduce((n, v) => n + (v.spec.numeric ? 1 : 0), 0);
        if (this.table !== undefined && numeric > 0) this.table.reserve(numeric, `replaying an import of ${count} variables`);
        let lastOrder = store.registry.mark()[1] - 1;
        for (const variable of variables) {
          this.addVariable(variable, input);
          store.registry.reserveSerial(variable.serial);
          if (variable.order > lastOrder) lastOrder = variable.order;
        }
        store.registry.reserveSerial(nextSerial - 1);
        store.registry.restore(store.registry.mark()[0], lastOrder + 1);
        store.lastImport = Object.freeze({ sessionId, variables: count, at });
        if (at > this.latest) this.latest = at;
        break;
      }
      default:
        throw input.bad(`unknown record type ${tag}`);
    }
    this.records++;
  }

  private target(order: number, input: ByteReader): Target {
    const target = this.byOrder.get(order);
    if (target === undefined) throw input.bad(`no variable has order ${order}`);
    return target;
  }

  private writeRecord(variable: Variable, value: VariableValue | number, input: ByteReader): void {
    let stored: VariableValue;
    try {
      stored = checkWrite(variable, value);
    } catch (error) {
      throw input.bad(error instanceof Error ? error.message : String(error));
    }
    records.apply(variable, stored, this.now);
  }

  /** The counters of one write, and the batch's metadata when it is part of one. */
  private wrote(target: Target): void {
    this.store.totalOperations++;
    this.store.totalUpdates++;
    if (this.batchLeft > 0) {
      this.merge(target, this.batchExtra as Metadata);
      this.batchLeft--;
    }
  }

  private metadataOf(input: ByteReader): Metadata {
    try {
      return copyMetadata(input.json(), 'journaled metadata');
    } catch (error) {
      throw input.bad(error instanceof Error ? error.message : String(error));
    }
  }

  private merge(target: Target, extra: Metadata): void {
    const storage = this.store.storageOf(target);
    storage.setMetadata(target, mergeMetadata(storage.metadata(target), extra));
  }
}
