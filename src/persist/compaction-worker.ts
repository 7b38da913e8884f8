// Entry point of a compaction's worker thread (started by compactor.ts).

import { parentPort, workerData } from 'node:worker_threads';
import { compact } from './compaction.js';
import type { CompactionJob } from './compactor.js';
import { nodeFs } from './fs.js';

const { job, control } = workerData as { job: CompactionJob; control: Int32Array };
try {
  parentPort?.postMessage({ ok: true, result: await compact(job, nodeFs, control) });
} catch (error) {
  parentPort?.postMessage({ ok: false, error: error instanceof Error ? error.message : String(error) });
}
