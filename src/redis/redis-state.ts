// RedisState: the provider contract on Redis, shared by every client of a
// session. Every write is one atomic script on the server (checks first, then
// writes, then one entry per change on the session's stream). Values are
// validated here first by the same type specs, errors and rules as every other
// backend; the server checks what only it knows (existence, versions).
//
// Reads are served from a near cache when they can be: the client keeps what
// it has read, and the session's change feed (feed.ts) applies every commit to
// it in order. A client reads its own writes at once (the script's reply
// updates the cache); another client's write reaches the cache within the
// feed's delay, and `sync()` waits for every write committed before it.

import { randomBytes, randomUUID } from 'node:crypto';
import { type CheckedRegistration, checkRegistrationBody, checkRegistrationHead, checkWrite, versionLimit } from '../checks.js';
import { coarseNow } from '../clock.js';
import { alreadyExists, closedError, describeValue, invalidArgument, notFound, quote, StateError, versionConflict } from '../errors.js';
import { idOf, MAX_SERIAL } from '../ids.js';
import { copyMetadata, type JsonValue, type Metadata, mergeMetadata, setOwn } from '../metadata.js';
import { type BatchOptions, expectedVersion, versionGuards, type WriteOptions } from '../options.js';
import type { Capabilities, RegisterOptions, StateProvider, StateStats, Updates, VariableInfo } from '../provider.js';
import { buildSnapshot, type ExportItem, parseSnapshot, type StateSnapshot } from '../snapshot.js';
import { BatchErrors, readUpdates } from '../store/batch.js';
import { Watching } from '../store/watching.js';
import type { VariableType, VariableValue } from '../types/index.js';
import {
  type Change,
  Dispatcher,
  MAX_DELIVERY_ROUNDS,
  type Subscription,
  type Watch,
  type WatchEvent,
  Watcher,
  type WatcherInfo,
  type WatchOptions,
} from '../watch.js';
import {
  type Descriptor,
  decodeDescriptor,
  decodeMetadata,
  decodeValue,
  type Entry,
  encodeDescriptor,
  encodeMetadata,
  encodeValue,
  entryOf,
} from './codec.js';
import { Connection, type Reply, withDeadline } from './connection.js';
import { Feed, type FeedEntry, parseEntries } from './feed.js';
import { encodeKey, type SessionKeys, sessionKeys } from './keys.js';
import { parseRedisOptions, type RedisInitOptions } from './options.js';
import { BATCH, DELETE, DUMP, IMPORT, OPEN, READ, REGISTER, type Script, SET } from './scripts.js';

/** Time an import may take beyond commandTimeoutMs, per variable (its one script is atomic, so it runs long for a large import). */
const IMPORT_MS_PER_VARIABLE = 0.05;

/** Times a write retries after the variable moved under a metadata merge or changed identity. */
const MAX_ATTEMPTS = 50;
/** Identifiers the resolution map holds at most: names that do not exist are remembered too, and a caller may try many. */
const MAX_RESOLVED = 1 << 16;

/** A ref to a variable of a RedisState: every member but id, name and type is asynchronous. */
export interface RedisRef<T extends VariableValue = VariableValue> {
  readonly id: string;
  readonly name: string;
  readonly type: VariableType;
  /** The current version (from the near cache when it can). */
  readonly version: Promise<number>;
  get(): Promise<T>;
  set(value: unknown, metadata?: Readonly<Record<string, unknown>>): Promise<void>;
}

export class RedisState implements StateProvider<'async'> {
  readonly sessionId: string;
  private readonly keys: SessionKeys;
  private closed = false;
  /** Reads served by this client: they are counted here, not on the server. */
  private gets = 0;
  /** Variables this client has read or written, by id as JSON, kept current by the feed. */
  private readonly cache = new Map<string, Entry>();
  /** Identifier → id as JSON (null: no such variable), until the next register, delete or import. */
  private readonly resolved = new Map<string, string | null>();
  /** Marks this client's writes on the change feed (random: only ever compared with itself). */
  private readonly token = randomBytes(9).toString('base64url');
  /** Descriptors parsed so far, by id as JSON, with the text each was parsed from (undefined: built at registration). */
  private readonly descriptors = new Map<string, { readonly text: string | undefined; readonly descriptor: Descriptor }>();
  private readonly subscriptions = new Map<string, Subscription[]>();
  private readonly watchers = new Map<string, Watcher>();
  /** The feed's sequence number each watch's starting state was read at: it gets changes after it only. */
  private readonly startSeq = new WeakMap<Watcher, number>();
  private readonly dispatcher = new Dispatcher();
  private nextWatcherId = 1;
  private feed: Feed | undefined;
  /** While a watch callback runs: the hop of the change it is told about (a write it makes is one hop further). */
  private delivering: number | undefined;
  /** False while the feed is disconnected: nothing would keep a cached read current. */
  private feedLive = true;

  private constructor(
    private readonly connection: Connection,
    private readonly options: ReturnType<typeof parseRedisOptions>,
    sessionId: string,
    private readonly createdAt: number,
    private readonly persistent: boolean,
  ) {
    this.sessionId = sessionId;
    this.keys = sessionKeys(options.keyPrefix, sessionId);
  }

  /** Connects, opens (or joins) the session, and starts reading its change feed. */
  static async init(options: RedisInitOptions = {}): Promise<RedisState> {
    const parsed = parseRedisOptions(options);
    const sessionId = parsed.sessionId ?? `session_${randomUUID()}`;
    const keys = sessionKeys(parsed.keyPrefix, sessionId);
    // A malformed snapshot is refused before anything reaches the server (and read once).
    const existing = parsed.existingState === undefined ? undefined : parseSnapshot(parsed.existingState);
    const connection = await Connection.open(
      { url: parsed.url, rootNodes: parsed.cluster?.rootNodes, commandTimeoutMs: parsed.commandTimeoutMs, socket: parsed.socket },
      keys.session,
    );
    try {
      const persistent = await persistenceOf(connection);
      const opened = (await connection.run(OPEN, keys.all, [String(coarseNow())])) as string[];
      const state = new RedisState(connection, parsed, sessionId, Number(opened[0]), persistent);
      await state.startFeed({ seq: Number(opened[1]), id: String(opened[2]) });
      if (existing !== undefined) {
        try {
          await state.importParsed(existing);
        } catch (error) {
          await state.cleanup();
          throw error;
        }
      }
      return state;
    } catch (error) {
      await connection.close();
      throw error;
    }
  }

  // ─── the contract ───────────────────────────────────────────────────────

  async registerVariable(name: string, type: VariableType, initialValue: unknown, options?: RegisterOptions): Promise<string> {
    this.assertOpen();
    const head = checkRegistrationHead(name, type, options);
    let checked: CheckedRegistration;
    try {
      checked = checkRegistrationBody(head, initialValue);
    } catch (error) {
      // A taken name is reported before what the constraints, metadata or value got wrong: ask the server.
      if (error instanceof StateError && (await this.connection.send(['HEXISTS', `${this.keys.tag}:names`, encodeKey(name)])) === 1) {
        throw alreadyExists(name);
      }
      throw error;
    }
    const { spec, constraints, rules, metadata, value } = checked;
    const body = encodeDescriptor(name, spec, constraints);
    const reply = (await this.run(REGISTER, [
      encodeKey(name),
      body,
      encodeValue(spec, value),
      encodeMetadata(metadata),
      this.maxLength,
      String(MAX_SERIAL),
    ])) as [string, number, number, string];
    if (reply[0] === 'exists') throw alreadyExists(name);
    if (reply[0] === 'serials') {
      throw invalidArgument(`registerVariable: this session has used every id serial up to ${MAX_SERIAL}`, { rule: 'serial' });
    }
    this.resolved.clear();
    const id = idOf(name, Number(reply[1]));
    const eid = encodeKey(id);
    const createdAt = Number(reply[3]);
    // As the script stored it: order|createdAt|body, both numbers as %d.
    const text = `${reply[2]}|${reply[3]}|${body}`;
    const descriptor: Descriptor = { eid, id, name, spec, constraints, rules, order: Number(reply[2]), createdAt, text };
    this.descriptors.set(eid, { text, descriptor });
    if (this.caching) this.cache.set(eid, { ...descriptor, value, version: 0, metadata, lastUpdatedAt: createdAt });
    return id;
  }

  async getVariable(identifier: string): Promise<VariableValue> {
    const entry = await this.current(identifier);
    this.gets++;
    return entry.value;
  }

  async setVariable(
    identifier: string,
    value: unknown,
    metadata?: Readonly<Record<string, unknown>>,
    options?: WriteOptions,
  ): Promise<void> {
    return this.write(identifier, value, metadata, options, this.nextHop());
  }

  /** setVariable, with the hop taken when the call was made (a ref's write awaits before it gets here). */
  private async write(
    identifier: string,
    value: unknown,
    metadata: Readonly<Record<string, unknown>> | undefined,
    options: WriteOptions | undefined,
    hop: number,
    /** A ref's write: the registration its variable must still be (an id can come back as another variable). */
    registration?: number,
  ): Promise<void> {
    this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      const entry = await this.current(identifier, attempt > 0);
      if (registration !== undefined && entry.order !== registration) throw notFound(identifier);
      const ifVersion = expectedVersion(options);
      let extra: Metadata | undefined;
      let stored: VariableValue;
      try {
        extra = metadata === undefined ? undefined : copyMetadata(metadata, `Variable ${quote(entry.name)}`);
        stored = checkWrite(entry, value);
      } catch (error) {
        // A version mismatch is reported before what the value got wrong: ask the server for the version.
        if (ifVersion !== undefined) {
          const fresh = await this.current(identifier, true);
          if (fresh.version !== ifVersion) throw versionConflict(fresh.name, ifVersion, fresh.version);
        }
        throw error;
      }
      const merged = extra === undefined ? undefined : mergeMetadata(entry.metadata, extra);
      const reply = (await this.run(SET, [
        encodeKey(identifier),
        entry.eid,
        encodeValue(entry.spec, stored),
        ifVersion === undefined ? '' : String(ifVersion),
        merged === undefined ? '' : String(entry.version),
        merged === undefined ? '' : encodeMetadata(merged),
        this.maxLength,
        String(hop),
        this.token,
        entry.text,
      ])) as [string, number | string, string?];
      switch (reply[0]) {
        case 'ok':
          this.applied(entry.eid, stored, Number(reply[1]), merged, Number(reply[2]));
          return;
        case 'not_found':
          this.forget(entry.eid);
          throw notFound(identifier);
        case 'conflict':
          throw versionConflict(entry.name, ifVersion as number, Number(reply[1]));
        case 'limit':
          throw versionLimit(entry.name, value);
        default:
          // 'stale' (the identifier names another variable now) or 'moved' (metadata merged against an old version).
          if (attempt >= MAX_ATTEMPTS) throw this.contention(entry.name);
      }
    }
  }

  async getVariables(identifiers: readonly string[]): Promise<Record<string, VariableValue>> {
    this.assertOpen();
    if (!Array.isArray(identifiers)) throw invalidArgument('getVariables: identifiers must be an array of strings');
    for (const identifier of identifiers) {
      if (typeof identifier !== 'string') throw invalidArgument(`getVariables: identifier ${describeValue(identifier)} is not a string`);
    }
    // What the cache holds now: another call may clear it while this one awaits the server.
    const known = identifiers.map((identifier) => (this.caching ? this.cached(identifier) : undefined));
    const read = await this.fetch(identifiers.filter((_, i) => known[i] === undefined));
    const result: Record<string, VariableValue> = {};
    identifiers.forEach((identifier, i) => {
      const entry = known[i] ?? read.get(identifier);
      if (entry !== undefined) setOwn(result, identifier, entry.value);
    });
    this.gets += identifiers.length;
    return result;
  }

  async updateVariables(updates: Updates, metadata?: Readonly<Record<string, unknown>>, options?: BatchOptions): Promise<void> {
    this.assertOpen();
    const hop = this.nextHop();
    const { identifiers, values } = readUpdates(updates);
    const extra = metadata === undefined ? undefined : copyMetadata(metadata, 'updateVariables');
    const guards = options === undefined ? new Map<string, number>() : new Map(versionGuards(options));
    const written = new Set(identifiers);
    const readGuards = [...guards].filter(([identifier]) => !written.has(identifier));
    for (let attempt = 0; ; attempt++) {
      const fresh = attempt > 0 || !this.caching;
      // What the cache holds now: another call may clear it while this one awaits the server.
      const known = identifiers.map((identifier) => (fresh ? undefined : this.cached(identifier)));
      const read = known.some((entry) => entry === undefined)
        ? await this.fetch(identifiers.filter((_, i) => known[i] === undefined))
        : new Map<string, Entry | undefined>();
      const errors = new BatchErrors();
      const args: string[] = [];
      const entries: Array<Entry | undefined> = [];
      const stored: VariableValue[] = [];
      const merged = new Map<string, Metadata>();
      for (let position = 0; position < identifiers.length; position++) {
        const identifier = identifiers[position] as string;
        const entry = known[position] ?? read.get(identifier);
        entries.push(entry);
        let value: VariableValue = 0;
        let metadataJson = '';
        if (entry !== undefined) {
          try {
            value = checkWrite(entry, values[position]);
          } catch (error) {
            errors.add(position, identifier, error);
          }
          if (extra !== undefined) {
            let next = merged.get(entry.eid);
            if (next === undefined) merged.set(entry.eid, (next = mergeMetadata(entry.metadata, extra)));
            metadataJson = encodeMetadata(next);
          }
        }
        stored.push(value);
        const ifVersion = guards.get(identifier);
        args.push(
          encodeKey(identifier),
          entry?.eid ?? '',
          // An item that failed its checks is never written, and its value may not even encode: '' (see BATCH).
          entry === undefined || errors.has(position) ? '' : encodeValue(entry.spec, value),
          ifVersion === undefined ? '' : String(ifVersion),
          extra === undefined || entry === undefined ? '' : String(entry.version),
          metadataJson,
          entry?.text ?? '',
        );
      }
      const guardArgs: string[] = [];
      for (const [identifier, version] of readGuards) guardArgs.push(encodeKey(identifier), String(version));
      const reply = (await this.run(BATCH, [
        String(identifiers.length),
        String(readGuards.length),
        errors.count === 0 ? '1' : '0',
        this.maxLength,
        String(hop),
        this.token,
        JSON.stringify(args),
        JSON.stringify(guardArgs),
      ])) as Array<string | number>;
      if (reply[0] === 'ok') {
        const updatedAt = Number(reply[identifiers.length + 1]);
        entries.forEach((entry, position) => {
          const e = entry as Entry;
          this.applied(e.eid, stored[position] as VariableValue, Number(reply[position + 1]), merged.get(e.eid), updatedAt);
        });
        return;
      }
      // Retry when the server says a variable changed identity or moved under a metadata merge.
      const statuses = reply.slice(1).map(String);
      if (statuses.some((status) => status.startsWith('stale') || status.startsWith('moved'))) {
        if (attempt >= MAX_ATTEMPTS) throw this.contention('updateVariables');
        continue;
      }
      // Every failing item, whichever check found it; a version mismatch comes before the value's own checks.
      const all = new BatchErrors();
      // A read guard's variable was not read for the batch: a conflict names it, so ask the server for its name.
      const conflicted = readGuards.filter((_, j) => statuses[identifiers.length + j]?.startsWith('conflict:'));
      const guarded = conflicted.length > 0 ? await this.fetch(conflicted.map(([identifier]) => identifier)) : undefined;
      statuses.forEach((status, position) => {
        const identifier =
          position < identifiers.length ? (identifiers[position] as string) : (readGuards[position - identifiers.length]?.[0] as string);
        const entry = entries[position] ?? guarded?.get(identifier);
        const name = entry?.name ?? identifier;
        if (status === 'not_found') all.add(position, identifier, notFound(identifier));
        else if (status.startsWith('conflict:')) {
          all.add(position, identifier, versionConflict(name, guards.get(identifier) as number, Number(status.slice('conflict:'.length))));
        } else if (errors.has(position)) all.copy(position, errors);
        else if (status === 'limit') all.add(position, identifier, versionLimit(name, values[position]));
      });
      throw all.error(identifiers.length + readGuards.length);
    }
  }

  async listVariables(): Promise<VariableInfo[]> {
    return (await this.dump()).entries.map(infoOf);
  }

  async deleteVariable(identifier: string): Promise<void> {
    this.assertOpen();
    for (let attempt = 0; ; attempt++) {
      const entry = await this.current(identifier, attempt > 0);
      const reply = (await this.run(DELETE, [encodeKey(identifier), entry.eid, encodeKey(entry.name), this.maxLength])) as string[];
      if (reply[0] === 'ok' || reply[0] === 'not_found') {
        this.forget(entry.eid);
        this.resolved.clear();
        if (reply[0] === 'not_found') throw notFound(identifier);
        return;
      }
      if (attempt >= MAX_ATTEMPTS) throw this.contention(entry.name);
    }
  }

  async exportState(): Promise<StateSnapshot> {
    const { entries, counters, lastImport, nextSerial } = await this.dump();
    const metadata: Record<string, JsonValue> = { backend: 'redis', createdAt: this.createdAt };
    if (lastImport !== undefined) metadata.lastImport = lastImport;
    const items = entries.map((entry): ExportItem => ({ ...infoOf(entry), spec: entry.spec }));
    return buildSnapshot(this.sessionId, items, metadata, counters, nextSerial);
  }

  /** Validates the whole payload here, then adds every variable in one atomic step, or none. */
  async importState(snapshot: unknown): Promise<void> {
    this.assertOpen();
    await this.importParsed(parseSnapshot(snapshot));
  }

  private async importParsed({ sessionId: importedFrom, variables, nextSerial }: ReturnType<typeof parseSnapshot>): Promise<void> {
    const args: string[] = [];
    for (const item of variables) {
      args.push(
        encodeKey(item.name),
        encodeKey(item.id),
        String(item.serial),
        encodeDescriptor(item.name, item.spec, item.constraints),
        encodeValue(item.spec, item.value),
        String(item.version),
        encodeMetadata(item.metadata),
        String(item.createdAt),
        String(item.lastUpdatedAt),
      );
    }
    const lastImport = JSON.stringify({ sessionId: importedFrom, variables: variables.length, at: coarseNow() });
    // One atomic step however large: the server is busy, not away, for about this long more per variable.
    const reply = (await this.run(
      IMPORT,
      [this.maxLength, String(nextSerial), lastImport, String(variables.length), ...args],
      Math.ceil(variables.length * IMPORT_MS_PER_VARIABLE),
    )) as Array<string | number>;
    if (reply[0] === 'exists') {
      const item = variables[Number(reply[1])];
      const key = JSON.parse(String(reply[2])) as string;
      throw new StateError(
        'already_exists',
        `importState: ${quote(key)} (variable ${quote(item?.name ?? key)}) already exists in this session`,
        {
          variable: item?.name ?? key,
          rule: 'name',
        },
      );
    }
    this.resolved.clear();
  }

  capabilities(): Capabilities {
    this.assertOpen();
    return { atomicUpdates: true, streaming: true, distributed: true, persistent: this.persistent };
  }

  requiresBridge(): boolean {
    this.assertOpen();
    return false;
  }

  /**
   * variableCount and totalUpdates are the session's, from the server. totalOperations is the session's
   * registrations, writes and deletes plus the reads made by this client (reads are not counted on the server).
   */
  async stats(): Promise<StateStats> {
    this.assertOpen();
    const [count, ops, updates] = (await this.connection.send(['HMGET', this.keys.session, 'count', 'ops', 'updates'])) as Array<
      string | null
    >;
    return { variableCount: Number(count ?? 0), totalOperations: Number(ops ?? 0) + this.gets, totalUpdates: Number(updates ?? 0) };
  }

  /** Closes this client and its watches; the session's data stays in Redis. Idempotent. */
  async cleanup(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watcher of [...this.watchers.values()]) watcher.unwatch();
    this.cache.clear();
    this.resolved.clear();
    await this.feed?.stop();
    await this.connection.close();
  }

  /** Deletes every key of this session from Redis, then closes this client. */
  async dropSession(): Promise<void> {
    this.assertOpen();
    await this.connection.send(['DEL', ...this.keys.all]);
    await this.cleanup();
  }

  /** Resolves once every write committed before the call is visible to this client's next read (one round trip). */
  async sync(): Promise<void> {
    this.assertOpen();
    const seq = Number((await this.connection.send(['HGET', this.keys.session, 'seq'])) ?? 0);
    const feed = this.feed;
    if (feed === undefined) return;
    if (seq < feed.lastSeq) {
      // The server has fewer changes than this client saw: it lost some (a restart from an unsynced AOF).
      this.cache.clear();
      this.resolved.clear();
      return;
    }
    // Bounded like any call: a feed that cannot catch up means the server is away.
    const ms = this.options.commandTimeoutMs;
    const wait = feed.reached(seq);
    await withDeadline(
      wait.done,
      ms,
      () => new StateError('unavailable', `sync: the change feed did not reach change ${seq} within ${ms} ms`, { rule: 'server' }),
      wait.cancel,
    );
  }

  async ref<T extends VariableValue = VariableValue>(identifier: string): Promise<RedisRef<T>> {
    const entry = await this.current(identifier);
    const { id, name, spec, eid, order } = entry;
    // By id from here on: the ref follows this variable, and fails once it is deleted.
    const stale = () => new StateError('not_found', `Variable ${quote(name)} (${id}) was deleted`, { variable: name });
    const follow = async (): Promise<Entry> => {
      let found: Entry;
      try {
        found = await this.current(id);
      } catch (error) {
        throw error instanceof StateError && error.code === 'not_found' ? stale() : error;
      }
      // Once this variable is gone, its id may name another: one named after the id, or one imported
      // under the same id (a new registration order). Neither is this ref's variable.
      if (found.eid !== eid || found.order !== order) throw stale();
      return found;
    };
    return {
      id,
      name,
      type: spec.type,
      get version() {
        return follow().then((e) => e.version);
      },
      get: async () => {
        const e = await follow();
        this.gets++;
        return e.value as T;
      },
      set: async (value, metadata) => {
        // Taken before the first await: a write made inside a watch callback is one delivery deeper.
        const hop = this.nextHop();
        await follow();
        try {
          await this.write(id, value, metadata, undefined, hop, order);
        } catch (error) {
          throw error instanceof StateError && error.code === 'not_found' ? stale() : error;
        }
      },
    };
  }

  async watchVariables(identifiers: readonly string[], callback: (event: WatchEvent) => void, options: WatchOptions = {}): Promise<Watch> {
    this.assertOpen();
    Watching.validate(identifiers, callback, options);
    // A non-string is read as '' (never a name or an id), so it is reported in its place, as invalid_argument.
    const keys = identifiers.map((identifier) => encodeKey(typeof identifier === 'string' ? identifier : ''));
    const reply = (await this.run(READ, keys)) as Reply[];
    const from = { seq: Number(reply[identifiers.length * 6]), id: String(reply[identifiers.length * 6 + 1]) };
    const targets: Array<[Entry, string]> = [];
    identifiers.forEach((identifier, i) => {
      const entry = this.entryFrom(reply, i);
      if (entry === undefined) throw notFound(identifier);
      if (!targets.some(([e]) => e.eid === entry.eid)) targets.push([entry, identifier]);
    });
    const watcher = new Watcher(`watch_${this.nextWatcherId++}`, callback, options, coarseNow(), (w) => this.stopWatching(w));
    if (options.signal?.aborted) {
      watcher.active = false;
      return watcher;
    }
    // Changes the feed handled after the state this watch saw, before it existed: delivered first.
    const missed = await this.since(from);
    for (const [entry, identifier] of targets) {
      const subscription: Subscription = { watcher, identifier, target: entry.eid, id: entry.id, name: entry.name };
      watcher.subscriptions.push(subscription);
      const list = this.subscriptions.get(entry.eid);
      if (list === undefined) this.subscriptions.set(entry.eid, [subscription]);
      else list.push(subscription);
    }
    this.watchers.set(watcher.id, watcher);
    this.startSeq.set(watcher, from.seq);
    if (options.signal !== undefined) {
      watcher.abortListener = () => watcher.unwatch();
      options.signal.addEventListener('abort', watcher.abortListener, { once: true });
    }
    if (options.includeInitial === true) {
      const initial = watcher.subscriptions.map((subscription): Change => {
        const entry = targets.find(([e]) => e.eid === subscription.target)?.[0] as Entry;
        return {
          subscriptions: [subscription],
          id: entry.id,
          name: entry.name,
          oldValue: undefined,
          newValue: entry.value,
          version: entry.version,
          metadata: entry.metadata,
          kind: 'initial',
        };
      });
      try {
        this.dispatcher.deliver(initial);
      } catch (error) {
        this.stopWatching(watcher);
        throw error;
      }
    }
    this.deliver(missed, new Set([watcher]));
    return watcher;
  }

  async unwatchVariables(watch: Watch | string): Promise<void> {
    const id = typeof watch === 'string' ? watch : watch?.id;
    const watcher = typeof id === 'string' ? this.watchers.get(id) : undefined;
    if (watcher !== undefined && (typeof watch === 'string' || watcher === watch)) watcher.unwatch();
  }

  async listWatchers(): Promise<WatcherInfo[]> {
    this.assertOpen();
    return [...this.watchers.values()].map((watcher) => watcher.info());
  }

  // ─── internals ───────────────────────────────────────────────────────────

  /** The hop a write made now carries: one past the change being delivered, when made from a watch callback. */
  private nextHop(): number {
    return this.delivering === undefined ? 0 : this.delivering + 1;
  }

  /** Reads are kept only with the near cache on and the feed connected to keep them current. */
  private get caching(): boolean {
    return this.options.nearCache && this.feedLive;
  }

  private get maxLength(): string {
    return String(this.options.streamMaxLength);
  }

  private async run(script: Script, args: readonly string[], extraMs = 0): Promise<Reply> {
    this.assertOpen();
    return this.connection.run(script, this.keys.all, args, this.options.commandTimeoutMs + extraMs);
  }

  private assertOpen(): void {
    if (this.closed) throw closedError();
  }

  private contention(what: string): StateError {
    return new StateError('unavailable', `${what}: the variable kept changing under this write (${MAX_ATTEMPTS} attempts)`, {
      rule: 'contention',
    });
  }

  /** The cached entry an identifier names, if the cache knows it. */
  private cached(identifier: string): Entry | undefined {
    const eid = this.resolved.get(identifier);
    return eid === undefined || eid === null ? undefined : this.cache.get(eid);
  }

  /** The entry an identifier names: from the near cache, or fetched (`fresh` skips the cache). */
  private async current(identifier: string, fresh = false): Promise<Entry> {
    this.assertOpen();
    if (typeof identifier !== 'string') throw notFound(identifier);
    if (!fresh && this.caching) {
      const entry = this.cached(identifier);
      if (entry !== undefined) return entry;
    }
    const entry = (await this.fetch([identifier])).get(identifier);
    if (entry === undefined) throw notFound(identifier);
    return entry;
  }

  /**
   * Reads identifiers from the server (`fresh`: all of them, else those the cache lacks) and returns
   * what it read. The cache keeps a read only if the feed will keep it current: caching is on, and the
   * feed has handled nothing committed after the read (such a change was never applied to it, and the
   * feed would not bring it again).
   */
  private async fetch(identifiers: readonly string[], fresh = true): Promise<Map<string, Entry | undefined>> {
    const read = new Map<string, Entry | undefined>();
    const wanted = fresh ? identifiers : identifiers.filter((identifier) => this.cached(identifier) === undefined);
    if (wanted.length === 0) return read;
    const reply = (await this.run(READ, wanted.map(encodeKey))) as Reply[];
    const readSeq = Number(reply[wanted.length * 6]);
    const keep = this.caching && this.feed !== undefined && this.feed.lastSeq <= readSeq;
    wanted.forEach((identifier, i) => {
      let entry = this.entryFrom(reply, i);
      if (entry !== undefined) {
        const known = this.cache.get(entry.eid);
        // A version never goes backwards: the feed may already have applied a newer commit.
        if (known !== undefined && known.version >= entry.version) entry = known;
        else if (keep) this.cache.set(entry.eid, entry);
      }
      read.set(identifier, entry);
      if (keep) {
        if (this.resolved.size >= MAX_RESOLVED) this.resolved.clear();
        this.resolved.set(identifier, entry?.eid ?? null);
      }
    });
    return read;
  }

  /** The entry at position `i` of a READ reply. */
  private entryFrom(reply: Reply[], i: number): Entry | undefined {
    const [eid, desc, value, version, metadata, updatedAt] = reply.slice(i * 6, i * 6 + 6) as Array<string | null>;
    if (typeof eid !== 'string') return undefined;
    return entryOf(this.descriptorOf(eid, desc as string), value as string, version as string, metadata as string, updatedAt as string);
  }

  /**
   * The descriptor stored as `text`, parsed once. Checked against the text, not only the id: an id that
   * was deleted can come back by import as another variable (another type, constraints and order).
   */
  private descriptorOf(eid: string, text: string): Descriptor {
    const known = this.descriptors.get(eid);
    if (known !== undefined && known.text === text) return known.descriptor;
    const descriptor = decodeDescriptor(eid, text);
    this.descriptors.set(eid, { text, descriptor });
    return descriptor;
  }

  /** After this client's own committed write: the cache shows it at once (read your own writes). */
  private applied(eid: string, value: VariableValue, version: number, metadata: Metadata | undefined, updatedAt: number): void {
    const entry = this.cache.get(eid);
    if (entry === undefined || entry.version >= version) return;
    entry.value = value;
    entry.version = version;
    if (metadata !== undefined) entry.metadata = metadata;
    entry.lastUpdatedAt = updatedAt;
  }

  private forget(eid: string): void {
    this.cache.delete(eid);
    this.resolved.clear();
  }

  private async dump(): Promise<{
    entries: Entry[];
    counters: Record<string, number>;
    lastImport: JsonValue | undefined;
    nextSerial: number;
  }> {
    const reply = (await this.run(DUMP, [])) as Reply[];
    const [descs, vals, vers, metas, uas] = reply.slice(0, 5).map(pairs);
    const [count, ops, updates, , lastImport, serial] = reply[5] as Array<string | null>;
    const entries: Entry[] = [];
    for (const [eid, desc] of descs as Map<string, string>) {
      entries.push(
        entryOf(
          this.descriptorOf(eid, desc),
          vals?.get(eid) as string,
          vers?.get(eid) as string,
          metas?.get(eid) as string,
          uas?.get(eid) as string,
        ),
      );
    }
    entries.sort((a, b) => a.order - b.order);
    const counters = {
      variableCount: Number(count ?? 0),
      totalOperations: Number(ops ?? 0) + this.gets,
      totalUpdates: Number(updates ?? 0),
    };
    return {
      entries,
      counters,
      nextSerial: Number(serial ?? 0) + 1,
      // Frozen, as every backend hands out its lastImport.
      lastImport: lastImport === null || lastImport === undefined ? undefined : (Object.freeze(JSON.parse(lastImport)) as JsonValue),
    };
  }

  private async startFeed(start: { readonly id: string; readonly seq: number }): Promise<void> {
    const reader = await this.connection.duplicate();
    this.feed = new Feed(
      reader,
      this.keys.log,
      start,
      {
        entries: (entries) => {
          const news = this.apply(entries);
          // A watcher hears another client's change at once too, cached or not.
          return this.deliver(entries) || news;
        },
        gap: (lost, at) => this.gap(lost, at),
        dropped: () => {
          // While the feed is away, what the cache holds may be stale: drop it, and keep no read until it is back.
          this.feedLive = false;
          this.cache.clear();
          this.resolved.clear();
        },
        restored: () => {
          this.feedLive = true;
        },
      },
      Math.min(200, this.options.commandTimeoutMs),
      this.options.feedPauseMs,
    );
  }

  /**
   * Feed entries after `from` that the feed has already handled: a new watch must not miss them. The
   * feed may move on while they are fetched, so this repeats until it is caught up (then the watch
   * attaches synchronously and the feed's later entries reach it as they come).
   */
  private async since(from: { readonly seq: number; readonly id: string }): Promise<FeedEntry[]> {
    const feed = this.feed;
    const missed: FeedEntry[] = [];
    let seq = from.seq;
    let id = from.id;
    while (feed !== undefined && feed.lastSeq > seq) {
      const until = feed.lastSeq;
      const after = seq;
      const reply = (await this.connection.send(['XRANGE', this.keys.log, `(${id}`, feed.lastId])) as Reply[];
      // The items of a batch share their entry's seq: all of them are taken, or none.
      for (const entry of parseEntries(reply)) {
        if (entry.seq <= after || entry.seq > until) continue;
        missed.push(entry);
        seq = entry.seq;
        id = entry.id;
      }
      if (seq < until) break; // trimmed away: the gap is reported by the feed
    }
    return missed;
  }

  /** The near cache follows every commit. Returns whether another client changed what the cache holds. */
  private apply(entries: readonly FeedEntry[]): boolean {
    let news = false;
    for (const entry of entries) {
      if (entry.kind !== 'set') {
        this.resolved.clear();
        if (entry.kind === 'delete' && entry.eid !== undefined) this.cache.delete(entry.eid);
        news = true;
        continue;
      }
      const cached = entry.eid === undefined ? undefined : this.cache.get(entry.eid);
      if (cached === undefined || cached.version >= entry.version) continue;
      cached.value = decodeValue(cached.spec, entry.value as string, cached.eid);
      cached.version = entry.version;
      cached.metadata = decodeMetadata(entry.metadata as string);
      cached.lastUpdatedAt = entry.updatedAt;
      // This client's own write is applied from its reply too (whichever comes first): not news.
      if (entry.writer !== this.token) news = true;
    }
    return news;
  }

  /**
   * Watch events for feed entries, to every subscribed watcher (or only `only`), in commit order.
   * Returns whether any event was another client's change.
   */
  private deliver(entries: readonly FeedEntry[], only?: ReadonlySet<Watcher>): boolean {
    if (this.subscriptions.size === 0) return false;
    let others = false;
    const changes: Change[] = [];
    const hops: number[] = [];
    for (const entry of entries) {
      if ((entry.kind !== 'set' && entry.kind !== 'delete') || entry.eid === undefined) continue;
      const list = this.subscriptions.get(entry.eid);
      if (list === undefined) continue;
      if (entry.hop >= MAX_DELIVERY_ROUNDS) {
        this.loop(entry, list);
        continue;
      }
      // A watch whose starting state already included this change (the feed was behind its read) skips it.
      const subscriptions = list.filter(
        (s) => (only === undefined || only.has(s.watcher)) && (this.startSeq.get(s.watcher) ?? 0) < entry.seq,
      );
      const first = subscriptions[0];
      if (first === undefined) continue;
      const descriptor = this.descriptors.get(entry.eid)?.descriptor as Descriptor;
      hops.push(entry.hop);
      if (entry.writer !== this.token) others = true;
      changes.push({
        subscriptions,
        id: first.id,
        name: first.name,
        oldValue: entry.old === undefined ? undefined : decodeValue(descriptor.spec, entry.old, entry.eid),
        newValue: entry.kind === 'delete' ? undefined : decodeValue(descriptor.spec, entry.value as string, entry.eid),
        version: entry.version,
        metadata: decodeMetadata(entry.metadata ?? '{}'),
        kind: entry.kind === 'delete' ? 'delete' : 'set',
      });
      if (entry.kind === 'delete') {
        // The delete event is the last one: that variable's part of each watch ends here.
        for (const subscription of subscriptions) this.forgetSubscription(subscription, true);
      }
    }
    // One change at a time, so that a write a callback makes knows which change (and hop) led to it.
    changes.forEach((change, i) => {
      this.delivering = hops[i];
      try {
        this.dispatcher.deliver([change]);
      } catch (error) {
        // Nobody awaits a delivery from the feed: a callback error with no onError surfaces as an uncaught error.
        queueMicrotask(() => {
          throw error;
        });
      } finally {
        this.delivering = undefined;
      }
    });
    return others;
  }

  /**
   * A change that watch callbacks' writes caused MAX_DELIVERY_ROUNDS times over (in any client): a feedback
   * loop. It is not delivered, which ends the loop; the watchers' onError hear of it (every write stands).
   */
  private loop(entry: FeedEntry, list: readonly Subscription[]): void {
    const error = new StateError(
      'watch_loop',
      `Watch callbacks kept writing watched variables for ${MAX_DELIVERY_ROUNDS} rounds (across clients); stopped delivering, every write made so far stands`,
      { rule: 'maxDeliveryRounds' },
    );
    const first = list[0];
    for (const subscription of list) {
      const event: WatchEvent = {
        id: first?.id ?? '',
        name: first?.name ?? '',
        identifier: subscription.identifier,
        oldValue: undefined,
        newValue: undefined,
        version: entry.version,
        metadata: {},
        kind: 'set',
      };
      subscription.watcher.options.onError?.(error, event);
    }
  }

  /**
   * The feed does not follow on: changes were trimmed from the stream before this client read them
   * (`lost` > 0), or the server lost changes this client had seen (`lost` < 0). The cache goes, and every
   * watch hears of it through its onError (with no event: the changes are not known).
   */
  private gap(lost: number, at: FeedEntry): void {
    this.cache.clear();
    this.resolved.clear();
    const why =
      lost > 0
        ? `lost ${lost} entries before this client read them (the stream is bounded to ${this.options.streamMaxLength} entries)`
        : `went back ${-lost + 1} changes: the server lost changes it had acknowledged (a restart from an AOF that had not synced them)`;
    const error = new StateError(
      'unavailable',
      `The change feed of session ${quote(this.sessionId)} ${why}; watches may have missed events`,
      {
        rule: lost > 0 ? 'streamMaxLength' : 'durability',
      },
    );
    const event: WatchEvent = {
      id: '',
      name: '',
      identifier: '',
      oldValue: undefined,
      newValue: undefined,
      version: at.version,
      metadata: {},
      kind: 'set',
    };
    for (const watcher of this.watchers.values()) watcher.options.onError?.(error, event);
  }

  private stopWatching(watcher: Watcher): void {
    if (!watcher.active) return;
    watcher.active = false;
    this.watchers.delete(watcher.id);
    if (watcher.abortListener !== undefined) watcher.options.signal?.removeEventListener('abort', watcher.abortListener);
    for (const subscription of [...watcher.subscriptions]) this.forgetSubscription(subscription);
  }

  private forgetSubscription(subscription: Subscription, byDelete = false): void {
    const watcher = subscription.watcher;
    const at = watcher.subscriptions.indexOf(subscription);
    if (at >= 0) watcher.subscriptions.splice(at, 1);
    const eid = subscription.target as string;
    const list = this.subscriptions.get(eid);
    if (list !== undefined) {
      const i = list.indexOf(subscription);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.subscriptions.delete(eid);
    }
    if (watcher.subscriptions.length === 0 && watcher.active) {
      watcher.endedByDelete = byDelete;
      this.stopWatching(watcher);
      watcher.endedByDelete = byDelete;
    }
  }
}

function infoOf(entry: Entry): VariableInfo {
  return {
    id: entry.id,
    name: entry.name,
    type: entry.spec.type,
    value: entry.value,
    constraints: entry.spec.copyConstraints(entry.constraints) as Record<string, unknown>,
    metadata: entry.metadata,
    version: entry.version,
    createdAt: entry.createdAt,
    lastUpdatedAt: entry.lastUpdatedAt,
  };
}

/** An HGETALL reply (a flat list, or a RESP3 map) as a Map. */
function pairs(reply: Reply | undefined): Map<string, string> {
  const map = new Map<string, string>();
  if (Array.isArray(reply)) for (let i = 0; i < reply.length; i += 2) map.set(String(reply[i]), String(reply[i + 1]));
  return map;
}

/** Whether the server keeps data on disk: AOF on, or RDB save points set. */
async function persistenceOf(connection: Connection): Promise<boolean> {
  try {
    const aof = (await connection.send(['CONFIG', 'GET', 'appendonly'])) as string[];
    const save = (await connection.send(['CONFIG', 'GET', 'save'])) as string[];
    return aof[1] === 'yes' || (typeof save[1] === 'string' && save[1].trim() !== '');
  } catch (error) {
    if (error instanceof StateError) throw error;
    // CONFIG may be disabled (managed services): INFO persistence still says whether AOF is on.
    const info = String(await connection.send(['INFO', 'persistence']));
    return /aof_enabled:1/.test(info);
  }
}
