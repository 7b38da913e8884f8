// The link to Redis: one node-redis client (or cluster client) for commands
// and scripts, every call bounded by commandTimeoutMs, and every failure to
// reach the server turned into StateError('unavailable'). Scripts run by
// EVALSHA and are loaded on NOSCRIPT (after a restart or a failover).

import { createHash } from 'node:crypto';
import { createClient, createCluster, ErrorReply, type RedisClientType, type RedisClusterType } from 'redis';
import { StateError } from '../errors.js';
import type { Script } from './scripts.js';

/** A raw reply: strings, integers, nested arrays, nulls. */
export type Reply = string | number | null | Reply[];

export interface ConnectionOptions {
  readonly url: string;
  /** Cluster root nodes (URLs); when given, `url` is ignored. */
  readonly rootNodes: readonly string[] | undefined;
  readonly commandTimeoutMs: number;
  /** Passed to node-redis as socket options (TLS and the like). */
  readonly socket: Readonly<Record<string, unknown>> | undefined;
}

type Client = RedisClientType | RedisClusterType;

/** node-redis command options: a timeout of 0 is none. */
const UNTIMED = { timeout: 0 } as const;

/** @internal */
export class Connection {
  private readonly shas = new Map<Script, string>();

  private constructor(
    readonly client: Client,
    private readonly cluster: boolean,
    private readonly options: ConnectionOptions,
    /** A key of the session: routes every command to the session's slot on a cluster. */
    private readonly routingKey: string,
  ) {}

  /** Connects, or rejects with `unavailable` within commandTimeoutMs. */
  static async open(options: ConnectionOptions, routingKey: string): Promise<Connection> {
    const client = makeClient(options);
    // node-redis reports connection trouble as 'error' events while it reconnects; the calls report it to users.
    client.on('error', () => {});
    const connection = new Connection(client, options.rootNodes !== undefined, options, routingKey);
    try {
      await connection.bounded('connect', () => client.connect() as Promise<unknown>);
    } catch (error) {
      // Otherwise the client would go on reconnecting, and keep the process alive, after init gave up.
      connection.destroy();
      throw error;
    }
    return connection;
  }

  /** A second connection to the same server(s), e.g. for blocking reads. */
  async duplicate(): Promise<Connection> {
    return Connection.open(this.options, this.routingKey);
  }

  /** Runs a command on the session's node. */
  send(args: readonly string[], timeoutMs = this.options.commandTimeoutMs): Promise<Reply> {
    return this.bounded(String(args[0]), () => this.raw(args), timeoutMs);
  }

  /** Runs a script (EVALSHA, loading it on NOSCRIPT) with every session key. */
  async run(script: Script, keys: readonly string[], args: readonly string[], timeoutMs = this.options.commandTimeoutMs): Promise<Reply> {
    let sha = this.shas.get(script);
    if (sha === undefined) this.shas.set(script, (sha = createHash('sha1').update(script.source).digest('hex')));
    const tail = [String(keys.length), ...keys, ...args];
    return this.bounded(
      `script ${script.name}`,
      async () => {
        try {
          return await this.raw(['EVALSHA', sha, ...tail]);
        } catch (error) {
          if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
          return await this.raw(['EVAL', script.source, ...tail]);
        }
      },
      timeoutMs,
    );
  }

  async close(): Promise<void> {
    try {
      await this.client.close();
    } catch {
      this.client.destroy();
    }
  }

  destroy(): void {
    this.client.destroy();
  }

  get isReady(): boolean {
    return this.client.isReady;
  }

  /**
   * Sends a command. No node-redis timeout (its default is 5 s): `bounded` is the one deadline. node-redis
   * makes an AbortSignal for each timed command, ~10 µs a call here; a reply that comes after the
   * deadline is still read in order, and dropped.
   */
  private raw(args: readonly string[]): Promise<Reply> {
    if (this.cluster)
      return (this.client as RedisClusterType).sendCommand(this.routingKey, false, args as string[], UNTIMED) as Promise<Reply>;
    return (this.client as RedisClientType).sendCommand(args as string[], UNTIMED) as Promise<Reply>;
  }

  /** Runs `call`; a failure to reach the server, or no answer within the timeout, becomes `unavailable`. */
  private async bounded<T>(what: string, call: () => Promise<T>, timeoutMs = this.options.commandTimeoutMs): Promise<T> {
    try {
      return await withDeadline(call(), timeoutMs, () => unavailable(what, `no answer within ${timeoutMs} ms`));
    } catch (error) {
      if (error instanceof StateError) throw error;
      if (isServerReply(error)) throw error;
      throw unavailable(what, error instanceof Error ? error.message : String(error), error);
    }
  }
}

/**
 * `work`, or the error `late()` makes if it has not settled within `ms`; `onLate` runs then too, so the
 * caller can drop whatever waits on `work`. The timer never keeps the process alive.
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, late: () => Error, onLate?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate?.();
      reject(late());
    }, ms);
    timer.unref();
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function makeClient(options: ConnectionOptions): Client {
  // No offline queue: while the server is away a call fails at once instead of waiting to be sent later.
  // RESP2: replies come as flat arrays whatever the command; the change feed (feed.ts), not client
  // tracking, keeps the near cache coherent, so nothing here needs RESP3's push messages.
  const common = { disableOfflineQueue: true, RESP: 2 as const };
  const socket = {
    connectTimeout: options.commandTimeoutMs,
    // Reconnect for as long as the store lives, backing off to a second.
    reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000),
    ...options.socket,
  };
  if (options.rootNodes !== undefined) {
    // RESP at the top level too: the cluster gives every node client its own RESP (default 3), over `defaults`.
    return createCluster({
      rootNodes: options.rootNodes.map((url) => ({ url, socket })),
      defaults: { ...common, socket },
      RESP: common.RESP,
    }) as unknown as Client;
  }
  return createClient({ url: options.url, ...common, socket }) as unknown as Client;
}

/** An error reply from Redis itself (a script error, NOSCRIPT, WRONGTYPE): the server was reached. */
function isServerReply(error: unknown): boolean {
  return error instanceof ErrorReply;
}

export function unavailable(what: string, why: string, cause?: unknown): StateError {
  return new StateError('unavailable', `Redis is unavailable (${what}): ${why}`, { rule: 'server', cause });
}
