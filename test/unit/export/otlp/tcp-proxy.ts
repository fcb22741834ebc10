/**
 * A TCP proxy in front of a test receiver: a stable endpoint whose upstream can be swapped (a
 * collector restarting on the same port), which counts client connections (to see session reuse),
 * and which can make open connections silently stale (what a client finds after a Lambda thaw).
 */

import net from 'node:net';
import { joinSockets } from '../../../helpers/tcp-pipe.js';

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

/** See the file comment; start with {@link TcpProxy.start}. */
export class TcpProxy {
  /** Client connections accepted so far. */
  connections = 0;
  private readonly pairs = new Set<Pair>();

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
    private targetPort: number,
  ) {}

  /** Listens on an ephemeral 127.0.0.1 port, forwarding to `targetPort`. */
  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | undefined;
    const server = net.createServer((client) => proxy?.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as net.AddressInfo).port, targetPort);
    return proxy;
  }

  /** `http://127.0.0.1:PORT`. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Forwards new connections to another port from now on. */
  retarget(targetPort: number): void {
    this.targetPort = targetPort;
  }

  /**
   * Drops every upstream connection without telling the clients, whose sockets stay open; the
   * next bytes a client sends are answered with a TCP reset. This is a connection that died while
   * the process was frozen: it looks alive until used.
   */
  makeConnectionsStale(): void {
    for (const pair of this.pairs) {
      const { client, upstream } = pair;
      this.pairs.delete(pair);
      client.unpipe(upstream);
      upstream.unpipe(client);
      upstream.destroy();
      client.once('data', () => client.resetAndDestroy());
      client.resume();
    }
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    for (const { client, upstream } of this.pairs) {
      client.destroy();
      upstream.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect(this.targetPort, '127.0.0.1');
    const pair: Pair = { client, upstream };
    this.pairs.add(pair);
    joinSockets(client, upstream, () => this.pairs.delete(pair));
  }
}
