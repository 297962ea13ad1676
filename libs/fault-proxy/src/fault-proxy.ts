import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { type Fault, faultSchema, type FlowDirection, holdMs } from './fault';

export interface Endpoint {
  host: string;
  /** 0 picks a free port; `address()` tells which. */
  port: number;
}

export interface FaultProxyOptions {
  listen: Endpoint;
  target: Endpoint;
  /** An HTTP control server (`PUT /fault`, `GET /fault`, `GET /stats`) so another process can command the proxy. */
  control?: Endpoint;
  /** Injected for deterministic tests; Math.random otherwise. */
  random?: () => number;
  /** Sees every chunk as it arrives, before any fault holds it (e.g. to count a protocol's messages on the wire). */
  observe?: (direction: FlowDirection, chunk: Buffer, connection: number) => void;
}

export interface FaultProxyStats {
  /** Connections accepted from clients since start (each one is a connection attempt the target side would see). */
  connectionsAccepted: number;
  connectionsActive: number;
  /** Connections the proxy reset (fault `reset`) or lost because the target refused or dropped them. */
  connectionsReset: number;
  bytesUpstream: number;
  bytesDownstream: number;
  /** Chunks forwarded at least 1 ms after they arrived because a fault held them, and their total time held. */
  heldChunks: number;
  heldMsTotal: number;
}

interface Queued {
  /** When the chunk arrived and when it may be forwarded (epoch ms). */
  arrivedAt: number;
  releaseAt: number;
  /** A chunk to forward, or null for the sender's FIN (half-close), which keeps its place in the order. */
  chunk: Buffer | null;
  /** Whether the fault made it wait (a delay or a blackhole): what the held-chunk counters count. */
  held: boolean;
}

/** One direction of one connection: reads `source`, writes `sink`, holding chunks as the fault says. */
class Flow {
  private readonly queue: Queued[] = [];
  private lastReleaseAt = 0;
  private timer?: NodeJS.Timeout;

  constructor(
    readonly direction: FlowDirection,
    private readonly source: Socket,
    private readonly sink: Socket,
    private readonly proxy: FaultProxy,
    private readonly counters: FaultProxyStats,
    connection: number,
  ) {
    source.on('data', (chunk: Buffer) => {
      if (direction === 'upstream') counters.bytesUpstream += chunk.length;
      else counters.bytesDownstream += chunk.length;
      proxy.observe?.(direction, chunk, connection);
      this.enqueue(chunk);
    });
    source.on('end', () => this.enqueue(null));
  }

  private enqueue(chunk: Buffer | null) {
    const hold = holdMs(this.proxy.fault(), this.direction, this.proxy.random);
    const now = Date.now();
    // Never overtake an earlier chunk: TCP is an ordered stream.
    const releaseAt = Math.max(this.lastReleaseAt, now + hold);
    this.lastReleaseAt = Number.isFinite(releaseAt) ? releaseAt : this.lastReleaseAt;
    this.queue.push({ arrivedAt: now, releaseAt, chunk, held: releaseAt > now });
    this.pump();
  }

  /** The fault changed: blackholed chunks are released now (as TCP would retransmit them), reading resumes. */
  refault() {
    const fault = this.proxy.fault();
    if (fault.kind === 'blackhole') {
      this.source.pause();
      for (const item of this.queue) {
        item.releaseAt = Number.POSITIVE_INFINITY;
        item.held = true;
      }
    } else {
      const now = Date.now();
      for (const item of this.queue) if (!Number.isFinite(item.releaseAt)) item.releaseAt = now;
      this.lastReleaseAt = Math.min(this.lastReleaseAt, now);
      if (this.source.isPaused()) this.source.resume();
    }
    this.pump();
  }

  pump() {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.sink.destroyed) return;
    const now = Date.now();
    while (this.queue.length > 0 && this.queue[0].releaseAt <= now) {
      const { chunk, arrivedAt, held } = this.queue.shift() as Queued;
      // Held by the fault, not by the clock ticking between enqueue and pump.
      if (chunk !== null && held) {
        this.counters.heldChunks++;
        this.counters.heldMsTotal += now - arrivedAt;
      }
      if (chunk === null) this.sink.end();
      else this.sink.write(chunk);
    }
    if (this.queue.length > 0 && Number.isFinite(this.queue[0].releaseAt)) {
      this.timer = setTimeout(() => this.pump(), this.queue[0].releaseAt - now);
    }
    if (this.proxy.fault().kind === 'blackhole') this.source.pause();
  }

  close() {
    clearTimeout(this.timer);
    this.queue.length = 0;
  }
}

class Link {
  readonly flows: Flow[];

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    proxy: FaultProxy,
    counters: FaultProxyStats,
  ) {
    const connection = counters.connectionsAccepted;
    this.flows = [
      new Flow('upstream', client, upstream, proxy, counters, connection),
      new Flow('downstream', upstream, client, proxy, counters, connection),
    ];
  }

  reset() {
    for (const flow of this.flows) flow.close();
    this.client.resetAndDestroy();
    this.upstream.resetAndDestroy();
  }

  destroy() {
    for (const flow of this.flows) flow.close();
    this.client.destroy();
    this.upstream.destroy();
  }
}

/**
 * A fault-injecting TCP proxy for one service→dependency edge: point the service at `listen` instead of the
 * dependency's address and command faults with `set()` (or over HTTP). The local equivalent of Chaos Mesh
 * NetworkChaos; it never interprets the bytes, so it works for gRPC, HTTP, Redis, Postgres or Kafka alike.
 */
export class FaultProxy {
  private current: Fault = { kind: 'none' };
  private readonly links = new Set<Link>();
  private readonly counters: FaultProxyStats = {
    connectionsAccepted: 0,
    connectionsActive: 0,
    connectionsReset: 0,
    bytesUpstream: 0,
    bytesDownstream: 0,
    heldChunks: 0,
    heldMsTotal: 0,
  };
  private readonly server: Server;
  private controlServer?: HttpServer;
  readonly random: () => number;
  readonly observe?: (direction: FlowDirection, chunk: Buffer, connection: number) => void;

  constructor(private readonly options: FaultProxyOptions) {
    this.random = options.random ?? Math.random;
    this.observe = options.observe;
    this.server = createServer({ noDelay: true }, (client) => this.accept(client));
  }

  fault(): Fault {
    return this.current;
  }

  /** Applies a fault to open connections and to every new one, at once. Throws on an invalid fault. */
  set(fault: Fault): void {
    this.current = faultSchema.parse(fault);
    if (this.current.kind === 'reset') {
      for (const link of [...this.links]) {
        this.counters.connectionsReset++;
        link.reset();
      }
      return;
    }
    for (const link of this.links) for (const flow of link.flows) flow.refault();
  }

  stats(): FaultProxyStats {
    return { ...this.counters, connectionsActive: this.links.size };
  }

  address(): Endpoint {
    const address = this.server.address() as AddressInfo;
    return { host: this.options.listen.host, port: address.port };
  }

  controlAddress(): Endpoint | undefined {
    if (!this.controlServer) return undefined;
    return {
      host: this.options.control?.host ?? '127.0.0.1',
      port: (this.controlServer.address() as AddressInfo).port,
    };
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.listen.port, this.options.listen.host, () => resolve());
    });
    if (this.options.control) {
      const control = createHttpServer((req, res) => void this.control(req, res));
      this.controlServer = control;
      await new Promise<void>((resolve, reject) => {
        control.once('error', reject);
        control.listen(this.options.control?.port, this.options.control?.host, () => resolve());
      });
    }
  }

  /** Stops accepting, destroys every open connection and the control server. */
  async stop(): Promise<void> {
    for (const link of [...this.links]) link.destroy();
    this.links.clear();
    await Promise.all([
      new Promise<void>((resolve) => this.server.close(() => resolve())),
      this.controlServer
        ? new Promise<void>((resolve) => this.controlServer?.close(() => resolve()))
        : Promise.resolve(),
    ]);
    this.controlServer?.closeAllConnections();
  }

  private accept(client: Socket) {
    this.counters.connectionsAccepted++;
    client.on('error', () => undefined);
    if (this.current.kind === 'reset') {
      this.counters.connectionsReset++;
      client.resetAndDestroy();
      return;
    }
    const upstream = connect({ host: this.options.target.host, port: this.options.target.port, noDelay: true });
    upstream.on('error', () => undefined);
    const link = new Link(client, upstream, this, this.counters);
    this.links.add(link);
    if (this.current.kind === 'blackhole') for (const flow of link.flows) flow.refault();
    let closed = false;
    const close = (reason: 'client' | 'upstream', hadError: boolean) => {
      if (closed) return;
      closed = true;
      this.links.delete(link);
      // A target that refuses or drops the connection: the client sees a reset, as it would talking to it directly.
      if (reason === 'upstream' && hadError) {
        this.counters.connectionsReset++;
        link.reset();
      } else {
        link.destroy();
      }
    };
    // Each side may half-close (FIN) and keep reading; only a full close of either side ends the link.
    client.on('close', (hadError) => close('client', hadError));
    upstream.on('close', (hadError) => close('upstream', hadError));
  }

  private async control(req: IncomingMessage, res: ServerResponse) {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/stats' && req.method === 'GET') return send(200, this.stats());
    if (req.url !== '/fault') return send(404, { error: 'use PUT /fault, GET /fault or GET /stats' });
    if (req.method === 'GET') return send(200, this.current);
    if (req.method !== 'PUT') return send(405, { error: 'use PUT /fault' });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let parsed: ReturnType<typeof faultSchema.safeParse>;
    try {
      parsed = faultSchema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    } catch {
      return send(400, { error: 'the body is not JSON' });
    }
    if (!parsed.success)
      return send(400, { error: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    this.set(parsed.data);
    return send(200, this.current);
  }
}
