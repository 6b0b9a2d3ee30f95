import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP round-robin balancer in front of the gateway replicas, as a Service or a load balancer is in
 * production: GitLab's hook URL names the balancer, never one replica. A connection goes to the next
 * live upstream; when that one refuses (killed, not restarted yet), the next one is tried, so a
 * replica's crash costs only the requests in flight on it.
 */
export class Balancer {
  private readonly upstreams = new Map<string, number>();
  private next = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<Balancer> {
    const holder: { balancer?: Balancer } = {};
    const server = createServer((client) => holder.balancer?.accept(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    holder.balancer = new Balancer(server, typeof address === 'object' && address ? address.port : 0);
    return holder.balancer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  set(id: string, port: number): void {
    this.upstreams.set(id, port);
  }

  remove(id: string): void {
    this.upstreams.delete(id);
  }

  private accept(client: Socket): void {
    client.pause();
    this.sockets.add(client);
    client.once('close', () => this.sockets.delete(client));
    client.on('error', () => client.destroy());
    const ports = [...this.upstreams.values()];
    const start = this.next++;
    const attempt = (tried: number) => {
      if (tried >= ports.length || client.destroyed) {
        client.destroy();
        return;
      }
      const upstream = connect(ports[(start + tried) % ports.length]!, '127.0.0.1');
      let connected = false;
      upstream.once('connect', () => {
        connected = true;
        this.sockets.add(upstream);
        upstream.once('close', () => this.sockets.delete(upstream));
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
      upstream.on('error', () => {
        if (!connected) attempt(tried + 1);
        else client.destroy();
      });
      upstream.once('close', () => {
        if (connected) client.destroy();
      });
      client.once('close', () => upstream.destroy());
    };
    attempt(0);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
