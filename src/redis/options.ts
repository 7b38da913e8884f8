// RedisState.init options: zod at the edge.

import { z } from 'zod';
import { parseOptions } from '../options.js';

export interface RedisInitOptions {
  /** redis:// or rediss:// (TLS); user name and password in the URL. Default: REDIS_URL, else redis://127.0.0.1:6379. */
  readonly url?: string;
  /** Clients with the same url and sessionId share one state. Default: a random `session_<uuid>`. */
  readonly sessionId?: string;
  /** A snapshot (from exportState of any backend) to import at init. */
  readonly existingState?: unknown;
  /** First part of every key's hash tag `{<keyPrefix>:<sessionId>}`. Default `localstate`. */
  readonly keyPrefix?: string;
  /** A call that gets no answer within this many ms rejects with `unavailable`. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** Serve repeated reads from memory, kept current by the session's change feed. Default true. */
  readonly nearCache?: boolean;
  /** Entries the session's change feed keeps (approximately); a watcher further behind loses changes and is told. Default 100,000. */
  readonly streamMaxLength?: number;
  /**
   * After the change feed brings nothing new to this client (its own writes, already applied from their
   * replies, or changes to variables it neither caches nor watches), it waits this many ms before it reads again, so
   * a client in a write loop is not woken once per write. A sync() ends the wait at once. The most this
   * adds to the invalidation delay. 0: read again at once. Default 2.
   */
  readonly feedPauseMs?: number;
  /** A Redis Cluster: its nodes' URLs (any subset; the client discovers the rest). `url` is then ignored. */
  readonly cluster?: { readonly rootNodes: readonly string[] };
  /** Extra socket options for node-redis (TLS certificates and the like); see node-redis's RedisSocketOptions. */
  readonly socket?: Readonly<Record<string, unknown>>;
}

const schema = z.strictObject({
  url: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .optional(),
  sessionId: z.string().min(1).max(512).optional(),
  existingState: z.unknown().optional(),
  keyPrefix: z.string().min(1).max(128).optional(),
  commandTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  nearCache: z.boolean().optional(),
  streamMaxLength: z.number().int().min(1).max(1e9).optional(),
  feedPauseMs: z.number().min(0).max(60_000).optional(),
  cluster: z.strictObject({ rootNodes: z.array(z.string().regex(/^rediss?:\/\//)).min(1) }).optional(),
  socket: z.record(z.string(), z.unknown()).optional(),
});

export interface ParsedRedisOptions {
  readonly url: string;
  readonly sessionId: string | undefined;
  readonly existingState: unknown;
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  readonly nearCache: boolean;
  readonly streamMaxLength: number;
  readonly feedPauseMs: number;
  readonly cluster: { readonly rootNodes: readonly string[] } | undefined;
  readonly socket: Readonly<Record<string, unknown>> | undefined;
}

export function parseRedisOptions(options: RedisInitOptions): ParsedRedisOptions {
  const parsed = parseOptions(schema, options, 'RedisState.init');
  return {
    url: parsed.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    sessionId: parsed.sessionId,
    existingState: parsed.existingState,
    keyPrefix: parsed.keyPrefix ?? 'localstate',
    commandTimeoutMs: parsed.commandTimeoutMs ?? 5000,
    nearCache: parsed.nearCache ?? true,
    streamMaxLength: parsed.streamMaxLength ?? 100_000,
    feedPauseMs: parsed.feedPauseMs ?? 2,
    cluster: parsed.cluster,
    socket: parsed.socket,
  };
}
