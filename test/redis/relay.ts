// A TCP relay between RedisState clients and a real redis-server, so a test
// can decide when a client hears the server: hold the replies on the change
// feed's connection (or on the command connection) and let them through later,
// cut connections, or keep the feed from coming back. Holding bytes in the
// relay, rather than pausing the server, leaves every other client untouched
// and orders events exactly: a held reply has been computed by the server, the
// client has just not read it yet.
//
// A connection's role is told from what the client sends: the feed is the one
// that sends XREAD (feed.ts), every other one carries commands and scripts.

import { createServer, type Server, Socket } from 'node:net';

export type Role = 'feed' | 'commands';

export class Link {
  /** What the client has sent so far (only the first bytes are kept; enough to tell the role). */
  private sent = '';
  private readonly held: Buffer[] = [];
  closed = false;

  constructor(
    private readonly relay: Relay,
    readonly client: Socket,
    readonly server: Socket,
  ) {}

  get role(): Role {
    return this.sent.includes('XREAD') ? 'feed' : 'commands';
  }

  /** Client → server. */
  fromClient(data: Buffer): void {
    if (this.sent.length < 4096) this.sent += data.toString('latin1');
    if (this.role === 'feed' && this.relay.refuseFeeds) {
      this.cut();
      return;
    }
    this.server.write(data);
  }

  /**
   * Server → client: passed on, unless the relay holds this role's replies. A feed's empty answer (its
   * blocking read timed out, RESP2's null array) passes while nothing is held yet, so a hold on the feed
   * catches the first reply that carries changes, however long it comes after the hold began.
   */
  fromServer(data: Buffer): void {
    const role = this.role;
    const idle = role === 'feed' && this.held.length === 0 && data.toString('latin1') === '*-1\r\n';
    if (this.relay.holds(role) && !idle) this.held.push(data);
    else this.client.write(data);
  }

  /** What is held for the client, as text (RESP). */
  get heldText(): string {
    return Buffer.concat(this.held).toString('latin1');
  }

  /** Passes on what was held, in order. */
  flush(): void {
    for (const data of this.held.splice(0)) if (!this.closed) this.client.write(data);
  }

  cut(): void {
    this.closed = true;
    this.held.length = 0;
    this.client.destroy();
    this.server.destroy();
  }
}

export class Relay {
  readonly links: Link[] = [];
  private readonly holding = new Set<Role>();
  /** While set, a connection is cut as soon as it shows itself to be a feed (by sending XREAD). */
  refuseFeeds = false;

  private constructor(
    private readonly listener: Server,
    readonly port: number,
  ) {}

  /** Listens on a free loopback port and relays every connection to `targetPort`. */
  static async start(targetPort: number): Promise<Relay> {
    let relay: Relay | undefined;
    const listener = createServer({ noDelay: true }, (client) => {
      const server = new Socket();
      server.setNoDelay(true);
      const link = new Link(relay as Relay, client, server);
      relay?.links.push(link);
      client.on('data', (data) => link.fromClient(data));
      server.on('data', (data) => link.fromServer(data));
      const close = () => {
        if (!link.closed) link.cut();
      };
      client.on('close', close);
      server.on('close', close);
      client.on('error', close);
      server.on('error', close);
      // Until the server side is connected, writes to it are buffered by the socket.
      server.connect(targetPort, '127.0.0.1');
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => resolve());
    });
    const address = listener.address();
    if (typeof address !== 'object' || address === null) throw new Error('relay: no address');
    relay = new Relay(listener, address.port);
    return relay;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  holds(role: Role): boolean {
    return this.holding.has(role);
  }

  /** Holds the server's replies on every connection of this role (open ones and later ones). */
  hold(role: Role): void {
    this.holding.add(role);
  }

  /** Passes on everything held for this role, in order, and stops holding it. */
  release(role: Role): void {
    this.holding.delete(role);
    for (const link of this.live(role)) link.flush();
  }

  /** Every reply held for this role's open connections, as text (RESP); '' while none has come. */
  heldText(role: Role): string {
    return this.live(role)
      .map((link) => link.heldText)
      .join('');
  }

  /** Connections of this role that are still open. */
  live(role: Role): Link[] {
    return this.links.filter((link) => !link.closed && link.role === role);
  }

  /** Cuts every open connection of this role (both sides: the client sees the connection drop). */
  cut(role: Role): void {
    for (const link of this.live(role)) link.cut();
  }

  async close(): Promise<void> {
    for (const link of this.links) if (!link.closed) link.cut();
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}
