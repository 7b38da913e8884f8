// Entry point of a compaction's worker thread (started by compactor.ts).

import { readlinkSync } from 'node:fs';
import { constants, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { compact } from './compaction.js';
import type { CompactionJob } from './compactor.js';
import { nodeFs } from './fs.js';

/**
 * On Linux a thread has a niceness of its own: setpriority() with this thread's id lowers this thread
 * only. A compaction is background work; at the lowest priority it takes a core only when the
 * program's event loop leaves one (on 2 cores it stalled the writing loop for 23-40 ms otherwise). Where
 * there is no /proc/thread-self, the compaction runs at the normal priority.
 */
function yieldToTheEventLoop(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isSafeInteger(tid) && tid > 0) setPriority(tid, constants.priority.PRIORITY_LOW);
  } catch {
    // Not Linux, or not allowed: compact at the normal priority.
  }
}

const { job, control } = workerData as { job: CompactionJob; control: Int32Array };
yieldToTheEventLoop();
try {
  parentPort?.postMessage({ ok: true, result: await compact(job, nodeFs, control) });
} catch (error) {
  parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
