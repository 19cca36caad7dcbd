import { type Server, type Socket, createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a service, so a test can drop a process's connections
 * (as a broker restart or a network cut would) without touching the shared service.
 */
export class TcpProxy {
  private readonly sockets = new Set<Socket>();
  private blocked = false;
  private constructor(private readonly server: Server) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => {
      if (proxy.blocked) {
        client.destroy();
        return;
      }
      const upstream = connect(targetPort, targetHost);
      // As the clients themselves do: without it, Nagle's algorithm adds ~40 ms to each round trip.
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      for (const s of [client, upstream]) {
        proxy.sockets.add(s);
        s.on('close', () => proxy.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Drops every connection and refuses new ones until `restore`. */
  cut(): void {
    this.blocked = true;
    for (const s of this.sockets) s.destroy();
  }

  restore(): void {
    this.blocked = false;
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
