// Real redis-server processes for the tests: each on a free loopback port, in
// a temporary directory, with persistence off unless a test asks for AOF, and
// stopped when the test is done. Never a mock. When redis-server is missing the
// Redis tests are skipped with a title that says so; under CI (CI=true) a
// missing redis-server is an error instead, so CI never skips them. A test
// process that ends without stopping its servers (a crash, a timeout) still
// kills them on exit.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN ?? 'redis-server';
export const REDIS_CLI = process.env.REDIS_CLI_BIN ?? 'redis-cli';

/** Every redis-server this process started and has not seen exit. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Why the Redis tests cannot run here, or undefined when they can (redis-cli too: the cluster and the checks use it). */
export const redisMissing: string | undefined = (() => {
  const absent = [REDIS_SERVER, REDIS_CLI].filter((command) => {
    const probe = spawnSync(command, ['--version'], { encoding: 'utf8' });
    return probe.error !== undefined || probe.status !== 0;
  });
  if (absent.length === 0) return undefined;
  const why = `${absent.join(' and ')} not found (install Debian's redis-server: apt-get install -y redis-server)`;
  if (process.env.CI) throw new Error(`CI must run the Redis tests, but ${why}`);
  return why;
})();

/** A free TCP port on 127.0.0.1 (the kernel picks one; the race until redis binds it is accepted). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface RedisOptions {
  /** Append-only file on (everysec), so a killed server restarts with its data. */
  readonly aof?: boolean;
  /** Extra `--name value` pairs. */
  readonly args?: readonly string[];
  /** `--appendfsync` when AOF is on. Default everysec (a SIGKILL may lose the last second of writes). */
  readonly appendfsync?: 'always' | 'everysec';
}

export class RedisServer {
  private process: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisOptions,
  ) {}

  static async start(options: RedisOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), mkdtempSync(join(tmpdir(), 'localstate-redis-')), options);
    try {
      await server.launch();
    } catch (error) {
      await server.stop();
      throw error;
    }
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts the process (again, after kill) on the same port and directory. */
  async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--save',
      '',
      '--appendonly',
      this.options.aof === true ? 'yes' : 'no',
      '--appendfsync',
      this.options.appendfsync ?? 'everysec',
      ...(this.options.args ?? []),
    ];
    const child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    this.process = child;
    running.add(child);
    child.once('exit', () => running.delete(child));
    await waitForPing(this.port, 10_000);
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing, as a hung server would. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  /** SIGCONT: the paused server answers what it was sent meanwhile, and goes on. */
  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** SIGKILL: no shutdown, no final AOF rewrite. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = undefined;
    if (child === undefined || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /**
   * Runs one command with redis-cli against this server (or, given `input`, one command per line of it)
   * and returns the raw output: for checks made outside the client under test.
   */
  cli(...args: Array<string | { readonly input: string }>): string {
    const input = args.find((arg) => typeof arg !== 'string')?.input;
    const words = args.filter((arg) => typeof arg === 'string');
    const result = spawnSync(REDIS_CLI, ['-h', '127.0.0.1', '-p', String(this.port), ...words], {
      encoding: 'utf8',
      timeout: 10_000,
      input,
    });
    if (result.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${result.error?.message ?? result.stderr}`);
    return result.stdout.trim();
  }

  /** Stops the process and removes its directory. */
  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A Redis Cluster of `masters` masters and no replicas, each node its own
 * redis-server with its own directory (and so its own cluster config file),
 * joined by `redis-cli --cluster create`. Ready once every node reports
 * `cluster_state:ok`.
 */
export class RedisCluster {
  private constructor(readonly nodes: readonly RedisServer[]) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    const cluster = new RedisCluster(nodes);
    try {
      for (let i = 0; i < masters; i++) {
        // The bus port is chosen too: its default, port + 10000, may be taken or past 65535.
        const bus = String(await freePort());
        const args = [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-port',
          bus,
          '--cluster-node-timeout',
          '5000',
        ];
        nodes.push(await RedisServer.start({ args }));
      }
      const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
      const create = spawnSync(REDIS_CLI, ['--cluster', 'create', ...addresses, '--cluster-yes'], { encoding: 'utf8', timeout: 30_000 });
      if (create.status !== 0)
        throw new Error(`redis-cli --cluster create failed: ${create.error?.message ?? create.stdout + create.stderr}`);
      for (const node of nodes) await waitFor(() => node.cli('CLUSTER', 'INFO').includes('cluster_state:ok'), 'cluster_state:ok', 20_000);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The nodes' URLs: what `cluster.rootNodes` takes. */
  get rootNodes(): string[] {
    return this.nodes.map((node) => node.url);
  }

  /** The node that serves each key's slot, by CLUSTER KEYSLOT and CLUSTER NODES: as the servers see it. */
  nodesOf(keys: readonly string[]): RedisServer[] {
    const owners: Array<{ from: number; to: number; node: RedisServer }> = [];
    for (const line of (this.nodes[0] as RedisServer).cli('CLUSTER', 'NODES').split('\n')) {
      // <id> <ip:port@cport> <flags> <master> <ping-sent> <pong-recv> <config-epoch> <link-state> <slot or range>...
      const [, address, , , , , , , ...ranges] = line.split(' ');
      const node = this.nodes.find((n) => n.port === Number(address?.split('@')[0]?.split(':')[1]));
      for (const range of ranges) {
        const [from, to = from] = range.split('-').map(Number);
        if (node !== undefined && from !== undefined && to !== undefined) owners.push({ from, to, node });
      }
    }
    return this.slotsOf(keys).map((slot) => {
      const owner = owners.find(({ from, to }) => slot >= from && slot <= to);
      if (owner === undefined) throw new Error(`no node serves slot ${slot}`);
      return owner.node;
    });
  }

  /** `CLUSTER KEYSLOT` of each key, as the server computes it (keys without spaces or quotes). */
  slotsOf(keys: readonly string[]): number[] {
    if (keys.length === 0) return [];
    const input = keys.map((key) => `CLUSTER KEYSLOT ${key}\n`).join('');
    return (this.nodes[0] as RedisServer).cli({ input }).split('\n').map(Number);
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

/** Polls `check` (bounded by `timeoutMs`) until it holds. */
async function waitFor(check: () => boolean, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Resolves once redis answers PING on `port`. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

/**
 * A describe block whose tests share a redis-server of its own (started before them, stopped after), or,
 * where there is no redis-server, shown as skipped with a title that says why. `server()` is the server.
 */
export function describeWithRedis(title: string, body: (server: () => RedisServer) => void): void {
  describe.skipIf(redisMissing !== undefined)(redisMissing === undefined ? title : `${title}: SKIPPED, ${redisMissing}`, () => {
    let server: RedisServer | undefined;
    beforeAll(async () => {
      server = await RedisServer.start();
    });
    afterAll(async () => {
      await server?.stop();
    });
    body(() => server as RedisServer);
  });
}
