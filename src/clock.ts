// A coarse wall clock. Date.now() costs ~50 ns here, more than a whole set, so
// writes share one cached reading, as lru-cache does for its ttlResolution:
// the cache is cleared by an unref'd 1 ms timer while the event loop turns,
// and refreshed every MAX_CACHED_READS reads so a long synchronous loop (which
// starves timers) cannot stamp stale times. Precision: about 1 ms, or 1,024
// writes, whichever comes first.

/** Milliseconds a cached reading may be served while the event loop runs. */
export const CLOCK_RESOLUTION_MS = 1;
/** Cached readings served before the clock is read again regardless. */
export const MAX_CACHED_READS = 1024;

let cached = -1;
let latest = 0;
let servedSinceRead = 0;
let expiry: ReturnType<typeof setTimeout> | undefined;

function expire(): void {
  cached = -1;
  expiry = undefined;
}

function read(): number {
  // Never step backwards, even if the system clock does: lastUpdatedAt >= createdAt.
  latest = Math.max(latest, Date.now());
  cached = latest;
  servedSinceRead = 0;
  if (expiry === undefined) {
    expiry = setTimeout(expire, CLOCK_RESOLUTION_MS);
    expiry.unref();
  }
  return cached;
}

/** Epoch milliseconds, at most ~1 ms or 1,024 calls old. */
export function coarseNow(): number {
  if (cached < 0 || ++servedSinceRead >= MAX_CACHED_READS) return read();
  return cached;
}
