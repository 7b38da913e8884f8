// The event loop's side of a compaction: a worker thread does the work
// (compaction.ts) and says when it is done. Closing the store cancels it; if
// the worker is already switching the manifest, closing waits for that to end
// (a rename and a few fsyncs), so no worker touches the directory after
// cleanup() returns and the lock is gone.

import { Worker } from 'node:worker_threads';

export interface CompactionJob {
  readonly dir: string;
  /** Hex. */
  readonly storeId: string;
  readonly sessionId: string;
  readonly createdAt: number;
  /** The live snapshot's generation (0: none) and the first live segment. */
  readonly snapshot: number;
  readonly firstSegment: number;
  /** The new snapshot holds the state before this segment, which the journal has just started. */
  readonly generation: number;
  readonly backend: 'wasm' | 'js';
}

export interface CompactionResult {
  readonly bytes: number;
  readonly variables: number;
}

/** Control word shared with the worker: where it is, so that a close neither tears a commit nor waits for a replay. */
export const CONTROL = { RUNNING: 0, COMMITTING: 1, FINISHED: 2 } as const;
/** Longest a close waits for a commit under way (a rename, a manifest write and their fsyncs). */
const COMMIT_WAIT_MS = 30_000;

export class Compactor {
  private worker: Worker | undefined;
  private control: Int32Array | undefined;
  private current: Promise<CompactionResult | undefined> | undefined;

  get running(): boolean {
    return this.worker !== undefined;
  }

  /** The compaction under way, as a promise that settles when it does. */
  done(): Promise<void> {
    return (this.current ?? Promise.resolve()).then(() => undefined);
  }

  start(job: CompactionJob): Promise<CompactionResult | undefined> {
    const control = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(new URL('./compaction-worker.js', import.meta.url), { workerData: { job, control } });
    // A compaction never keeps the process alive: a process that ends mid-way leaves only a temp file.
    worker.unref();
    this.worker = worker;
    this.control = control;
    this.current = new Promise<CompactionResult | undefined>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        settled = true;
        if (this.worker === worker) {
          this.worker = undefined;
          this.control = undefined;
        }
      };
      worker.once('message', (message: { ok: true; result: CompactionResult | undefined } | { ok: false; error: string }) => {
        finish();
        if (message.ok) resolve(message.result);
        else reject(new Error(`compaction failed: ${message.error}`));
      });
      worker.once('error', (error) => {
        finish();
        reject(error);
      });
      worker.once('exit', (code) => {
        if (settled) return;
        finish();
        // Terminated by stop(): nothing to report.
        if (Atomics.load(control, 0) === CONTROL.FINISHED) resolve(undefined);
        else reject(new Error(`compaction worker exited with code ${code}`));
      });
    });
    return this.current;
  }

  /** Cancels a compaction under way; waits only if it is switching the manifest. Synchronous. */
  stop(): void {
    const worker = this.worker;
    const control = this.control;
    if (worker === undefined || control === undefined) return;
    if (Atomics.compareExchange(control, 0, CONTROL.RUNNING, CONTROL.FINISHED) === CONTROL.COMMITTING) {
      Atomics.wait(control, 0, CONTROL.COMMITTING, COMMIT_WAIT_MS);
    }
    this.worker = undefined;
    this.control = undefined;
    void worker.terminate();
  }
}
