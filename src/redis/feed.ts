// The session's change feed, read by one blocking XREAD loop on a connection
// of its own. Every committed change arrives here in commit order: the near
// cache applies it, and watchers get their events from it. Entries carry a
// sequence number `q`, so a gap (the stream was trimmed past what this client
// had read, say while it was disconnected) is noticed and reported, never
// silently skipped.

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
}

export interface FeedHandlers {
  /** Entries in commit order, each batch right after it was read. */
  entries(entries: readonly FeedEntry[]): void;
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
  private running = true;
  private waiters: Array<{ seq: number; resolve: () => void }> = [];
  private stopped: Promise<void> | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly stream: string,
    start: { readonly id: string; readonly seq: number },
    private readonly handlers: FeedHandlers,
    private readonly retryMs: number,
  ) {
    this.lastId = start.id;
    this.lastSeq = start.seq;
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
    const cancel = (): void => {
      this.waiters = this.waiters.filter((other) => other !== waiter);
    };
    return { done, cancel };
  }

  async stop(): Promise<void> {
    this.running = false;
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
          ['XREAD', 'COUNT', String(COUNT), 'BLOCK', String(BLOCK_MS), 'STREAMS', this.stream, this.lastId],
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
      const entries = parseXread(reply);
      if (entries.length === 0) continue;
      const first = entries[0] as FeedEntry;
      // Numbers run on by one per change: a jump means changes trimmed away unread; a step back means the
      // server lost changes it had acknowledged (a restart from an AOF that had not synced them).
      if (first.seq !== this.lastSeq + 1) this.handlers.gap(first.seq - this.lastSeq - 1, first);
      const last = entries[entries.length - 1] as FeedEntry;
      this.lastId = last.id;
      this.lastSeq = last.seq;
      this.handlers.entries(entries);
      this.waiters = this.waiters.filter((waiter) => {
        if (waiter.seq > this.lastSeq) return true;
        waiter.resolve();
        return false;
      });
    }
  }
}

/** Entries of an XREAD (one stream) or XRANGE reply. */
export function parseXread(reply: Reply): FeedEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const stream = reply[0] as Reply[];
  return parseEntries(stream[1] as Reply[]);
}

export function parseEntries(list: Reply[]): FeedEntry[] {
  const entries: FeedEntry[] = [];
  for (const raw of list) {
    const [id, fields] = raw as [string, string[]];
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
    });
  }
  return entries;
}
