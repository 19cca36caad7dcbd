import { type AddressInfo, type Server, type Socket, connect, createServer } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 dedicated to one replication link: the reader region's replicator
 * reaches the source region's Redis only through it. `cut()` is a real network cut of that one
 * direction: every open connection is destroyed (no byte more is forwarded either way) and every
 * new one is closed the moment it is accepted, until `restore()`.
 */
export class LinkProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  /** Bytes forwarded, both directions together: a test can check that nothing passed while cut. */
  forwardedBytes = 0;
  /** Connections closed at once because the link was cut. */
  refused = 0;

  private constructor(
    /** `<reader><-<source>`, for messages. */
    readonly name: string,
    private readonly server: Server,
  ) {}

  static async start(name: string, targetPort: number, targetHost = '127.0.0.1'): Promise<LinkProxy> {
    const server = createServer();
    const proxy = new LinkProxy(name, server);
    server.on('connection', (client) => proxy.accept(client, targetHost, targetPort));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get isCut(): boolean {
    return this.blocked;
  }

  /** Drops every connection and closes every new one until `restore`. */
  cut(): void {
    this.blocked = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, host: string, port: number): void {
    if (this.blocked) {
      this.refused++;
      client.destroy();
      return;
    }
    const upstream = connect(port, host);
    // As the clients themselves do: without it, Nagle's algorithm adds ~40 ms to each round trip.
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.sockets.add(from);
      from.on('error', () => undefined);
      from.on('close', () => {
        this.sockets.delete(from);
        to.destroy();
      });
      // Forwarded by hand rather than piped, so a chunk already read when the cut comes is dropped.
      from.on('data', (chunk: Buffer) => {
        if (this.blocked || to.destroyed) return;
        this.forwardedBytes += chunk.length;
        if (!to.write(chunk)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
    }
  }
}
