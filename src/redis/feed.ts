// The session's change feed, read by one blocking XREAD loop on a connection
// of its own. Every committed change arrives here in commit order: the near
// cache applies it, and watchers get their events from it. Entries carry a
// sequence number `q`, so a gap (the stream was trimmed past what this client
// had read, say while it was disconnected) is noticed and reported, never
// silently skipped.
//
// A batch is one entry (kind `b`) holding its items, or, past BATCH_ENTRY_ITEMS
// items, several consecutive entries, each but the last marked `x`. The feed
// hands a batch on only once it has read all of it, so the cache never shows
// part of a batch.

import type { Connection, Reply } from './connection.js';

export type EntryKind = 'register' | 'set' | 'delete' | 'import';

const KINDS: Readonly<Record<string, EntryKind>> = { r: 'register', s: 'set', d: 'delete', i: 'import' };

export interface FeedEntry {
  /** The stream entry id. */
  readonly id: string;
  /** The session's sequence number of the change: consecutive, from 1. */
  readonly seq: number;
  readonly kind: EntryKind;
  /** The variable's id as JSON (register, set, delete). */
  readonly eid: string | undefined;
  /** Value JSON before the change (set, delete). */
  readonly old: string | undefined;
  /** Value JSON after the change (set). */
  readonly value: string | undefined;
  /** Version after the change (set), or at deletion (delete). */
  readonly version: number;
  /** Metadata JSON after the change (set, delete). */
  readonly metadata: string | undefined;
  readonly updatedAt: number;
  /** How many watch deliveries led to this change (0: none): a feedback loop is stopped by it. */
  readonly hop: number;
  /** Part of a batch that goes on in the next stream entry. */
  readonly more: boolean;
  /** The writing client's token (set and batch entries). */
  readonly writer: string | undefined;
}

export interface FeedHandlers {
  /**
   * Entries in commit order, each batch right after it was read. Returns whether they told the client
   * anything it must hear at once (another client's change to a cached value, a registration, a
   * delete): if not, the feed may pause before reading again.
   */
  entries(entries: readonly FeedEntry[]): boolean;
  /**
   * The feed does not follow on: `lost` > 0 changes were trimmed from the stream before this client read
   * them, or (`lost` < 0) the server's feed went back, having lost changes this client had seen.
   */
  gap(lost: number, at: FeedEntry): void;
  /** The feed lost its connection (what it shows may be stale until it is back). */
  dropped(error: unknown): void;
  /** The feed reads again after `dropped`, from where it stopped; called before the entries of that read. */
  restored(): void;
}

const BLOCK_MS = 1000;
const COUNT = 512;

export class Feed {
  /** Stream id and sequence number of the last entry handled. */
  lastId: string;
  lastSeq: number;
  /** Where the next XREAD starts, and the sequence number read last: ahead of lastId while a batch is part read. */
  private readId: string;
  private readSeq: number;
  /** Entries of a batch whose last stream entry has not been read yet. */
  private partial: FeedEntry[] = [];
  private running = true;
  /** Ends the pause after a read (see `pauseMs`) early: a sync() waits, or the feed stops. */
  private wake: (() => void) | undefined;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly stream: string,
    start: { readonly id: string; readonly seq: number },
    private readonly handlers: FeedHandlers,
    private readonly retryMs: number,
    /**
     * After a read that brought nothing new, wait this long before reading again, so that a client
     * writing in a loop gets one feed read per pause rather than one per write (its own writes come
     * back on the feed: ~50 µs a write here, see bench/redis.ts). An idle feed blocks in XREAD and
     * hears the next change at once.
     */
    private readonly pauseMs: number,
  ) {
    this.lastId = this.readId = start.id;
    this.lastSeq = this.readSeq = start.seq;
    this.stopped = this.loop();
  }

  /**
   * Resolves once every change up to `seq` has been handled. `cancel` drops the wait (its caller gave
   * up), so a feed that never gets there holds nothing for it.
   */
  reached(seq: number): { readonly done: Promise<void>; cancel(): void } {
    if (this.lastSeq >= seq || !this.running) return { done: Promise.resolve(), cancel: () => {} };
    let waiter: { seq: number; resolve: () => void } | undefined;
    const done = new Promise<void>((resolve) => {
      waiter = { seq, resolve };
      this.waiters.push(waiter);
    });
    this.wake?.();
    const cancel = (): void => {
      this.waiters = this.waiters.filter((other) => other !== waiter);
    };
    return { done, cancel };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    for (const waiter of this.waiters) waiter.resolve();
    this.waiters = [];
    this.connection.destroy();
    await this.stopped;
  }

  private async loop(): Promise<void> {
    let failing = false;
    while (this.running) {
      let reply: Reply;
      try {
        reply = await this.connection.send(
          ['XREAD', 'COUNT', String(COUNT), 'BLOCK', String(BLOCK_MS), 'STREAMS', this.stream, this.readId],
          BLOCK_MS * 2 + 5000,
        );
        if (failing) this.handlers.restored();
        failing = false;
      } catch (error) {
        if (!this.running) return;
        if (!failing) this.handlers.dropped(error);
        failing = true;
        await new Promise((resolve) => setTimeout(resolve, this.retryMs).unref());
        continue;
      }
      if (!this.running) return;
      const read = parseXread(reply);
      if (read.length === 0) continue;
      const first = read[0] as FeedEntry;
      // Numbers run on by one per entry: a jump means entries trimmed away unread; a step back means the
      // server lost entries it had acknowledged (a restart from an AOF that had not synced them).
      if (first.seq !== this.readSeq + 1) {
        this.partial = [];
        this.handlers.gap(first.seq - this.readSeq - 1, first);
      }
      const last = read[read.length - 1] as FeedEntry;
      this.readId = last.id;
      this.readSeq = last.seq;
      // Hand on every entry up to the end of the last whole commit; keep the rest of a batch read in part.
      const entries = this.partial.length === 0 ? read : [...this.partial, ...read];
      let whole = entries.length;
      while (whole > 0 && (entries[whole - 1] as FeedEntry).more) whole--;
      this.partial = whole === entries.length ? [] : entries.slice(whole);
      if (whole === 0) continue;
      const handed = whole === entries.length ? entries : entries.slice(0, whole);
      const end = handed[whole - 1] as FeedEntry;
      this.lastId = end.id;
      this.lastSeq = end.seq;
      const news = this.handlers.entries(handed);
      this.waiters = this.waiters.filter((waiter) => {
        if (waiter.seq > this.lastSeq) return true;
        waiter.resolve();
        return false;
      });
      // Only when nothing was new (this client's own writes, applied from their replies, or changes to
      // variables it neither caches nor watches): other clients' changes to what it uses come at once.
      if (!news && this.pauseMs > 0 && this.waiters.length === 0 && this.running) await this.pause();
    }
  }

  private pause(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, this.pauseMs);
      timer.unref();
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}

/** Entries of an XREAD (one stream) or XRANGE reply. */
export function parseXread(reply: Reply): FeedEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0] as Reply[];
  return parseEntries(stream[1] as Reply[]);
}

/** Entries of XREAD or XRANGE, a batch entry expanded into one entry per item (they share id and seq). */
export function parseEntries(list: Reply[]): FeedEntry[] {
  const entries: FeedEntry[] = [];
  for (const raw of list) {
    const [id, fields] = raw as [string, string[]];
    if (fields[2] === 'k' && fields[3] === 'b') {
      batchItems(id, fields, entries);
      continue;
    }
    const f: Record<string, string> = Object.create(null);
    for (let i = 0; i < fields.length; i += 2) f[fields[i] as string] = fields[i + 1] as string;
    entries.push({
      id,
      seq: Number(f.q),
      kind: KINDS[f.k as string] ?? 'set',
      eid: f.e,
      old: f.o,
      value: f.v,
      version: Number(f.n ?? 0),
      metadata: f.m,
      updatedAt: Number(f.t ?? 0),
      hop: Number(f.h ?? 0),
      more: false,
      writer: f.c,
    });
  }
  return entries;
}

/**
 * A batch entry (scripts.ts, BATCH): q, k=b, h=hop, x=1|0 (more entries follow), c=writer, i=items, the
 * items a JSON array of e, o, v, n, m, t (6 strings) per item.
 */
function batchItems(id: string, fields: readonly string[], into: FeedEntry[]): void {
  const seq = Number(fields[1]);
  const hop = Number(fields[5]);
  const more = fields[7] === '1';
  const writer = fields[9];
  const items = JSON.parse(fields[11] as string) as string[];
  for (let i = 0; i + 5 < items.length; i += 6) {
    into.push({
      id,
      seq,
      kind: 'set',
      eid: items[i],
      old: items[i + 1],
      value: items[i + 2],
      version: Number(items[i + 3]),
      metadata: items[i + 4],
      updatedAt: Number(items[i + 5]),
      hop,
      more,
      writer,
    });
  }
}
