// A coarse wall clock. Date.now() costs ~50 ns here, more than a whole set, so
// writes share one cached reading. The model is lru-cache's
// ttlResolution (clear the cache from an unref'd 1 ms timer), but a timer only
// fires when the event loop gets to timers: code that awaits resolved
// promises, or computes for a while between two writes, would stamp a reading
// many milliseconds old. So the cache is cleared by a microtask instead: a
// reading is reused only within one synchronous run of code, never across an
// await or a task boundary. Within a long synchronous loop the clock is read
// again every MAX_CACHED_READS writes. Precision: the current synchronous
// stretch, capped at 1,024 writes.

/** Cached readings served before the clock is read again, even without a microtask checkpoint. */
export const MAX_CACHED_READS = 1024;

let cached = -1;
let latest = 0;
let servedSinceRead = 0;
let expiryQueued = false;

function expire(): void {
  cached = -1;
  expiryQueued = false;
}

function read(): number {
  // Never step backwards, even if the system clock does: lastUpdatedAt >= createdAt.
  latest = Math.max(latest, Date.now());
  cached = latest;
  servedSinceRead = 0;
  if (!expiryQueued) {
    expiryQueued = true;
    queueMicrotask(expire);
  }
  return cached;
}

/** Epoch milliseconds, read at most MAX_CACHED_READS calls ago within the current synchronous stretch. */
export function coarseNow(): number {
  if (cached < 0 || ++servedSinceRead >= MAX_CACHED_READS) return read();
  return cached;
}

/** Raises the clock's floor to `ms`, so that a store recovered from disk never stamps a write before its recovered ones. */
export function observeTime(ms: number): void {
  if (ms > latest) {
    latest = ms;
    cached = -1;
  }
}
