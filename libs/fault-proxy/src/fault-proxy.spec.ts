// Real sockets on the loopback interface: an echo server as the target, a client talking through the proxy.
// Timings are asserted with generous margins (a 500 ms fault must cost at least 450 ms), never tightly.
import { connect, createServer, type Server, Socket } from 'node:net';
import { request } from 'node:http';
import { FaultProxy } from './fault-proxy';

let echo: Server;
let echoPort: number;
let proxy: FaultProxy;

function openClient(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Sends one line and resolves with the round-trip time, or rejects with the socket error or after `deadlineMs`. */
function roundTrip(socket: Socket, deadlineMs = 5_000): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error('deadline exceeded'));
    }, deadlineMs);
    const onData = () => {
      cleanup();
      resolve(performance.now() - started);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('closed'));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off('data', onData).off('error', onError).off('close', onClose);
    };
    socket.on('data', onData).on('error', onError).on('close', onClose);
    socket.write('ping\n');
  });
}

beforeAll(async () => {
  echo = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()));
  echoPort = (echo.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => echo.close(() => resolve()));
});

beforeEach(async () => {
  proxy = new FaultProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: echoPort },
    control: { host: '127.0.0.1', port: 0 },
  });
  await proxy.start();
});

afterEach(async () => {
  await proxy.stop();
});

describe('FaultProxy', () => {
  it('forwards bytes both ways and counts connections and bytes', async () => {
    const client = await openClient(proxy.address().port);
    expect(await roundTrip(client)).toBeLessThan(200);
    client.destroy();
    const stats = proxy.stats();
    expect(stats.connectionsAccepted).toBe(1);
    expect(stats.bytesUpstream).toBe(5);
    expect(stats.bytesDownstream).toBe(5);
  });

  it('latency really delays an already open connection, and lifting it restores the round trip', async () => {
    const client = await openClient(proxy.address().port);
    await roundTrip(client);
    proxy.set({ kind: 'latency', ms: 500 });
    expect(await roundTrip(client)).toBeGreaterThanOrEqual(450);
    const fresh = await openClient(proxy.address().port);
    expect(await roundTrip(fresh)).toBeGreaterThanOrEqual(450);
    proxy.set({ kind: 'none' });
    expect(await roundTrip(client)).toBeLessThan(200);
    client.destroy();
    fresh.destroy();
  });

  it('counts the chunks a fault held and for how long, and none without a fault', async () => {
    const client = await openClient(proxy.address().port);
    await roundTrip(client);
    expect(proxy.stats()).toMatchObject({ heldChunks: 0, heldMsTotal: 0 });
    proxy.set({ kind: 'latency', ms: 300, direction: 'both' });
    await roundTrip(client);
    const held = proxy.stats();
    // One chunk each way, each held ~300 ms.
    expect(held.heldChunks).toBe(2);
    expect(held.heldMsTotal).toBeGreaterThanOrEqual(2 * 280);
    client.destroy();
  });

  it('shows every chunk to the observe hook with its direction and connection', async () => {
    const seen: string[] = [];
    const observed = new FaultProxy({
      listen: { host: '127.0.0.1', port: 0 },
      target: { host: '127.0.0.1', port: echoPort },
      observe: (direction, chunk, connection) => seen.push(`${connection} ${direction} ${chunk.toString().trim()}`),
    });
    await observed.start();
    try {
      const a = await openClient(observed.address().port);
      const b = await openClient(observed.address().port);
      await roundTrip(a);
      await roundTrip(b);
      a.destroy();
      b.destroy();
      expect(seen).toEqual(['1 upstream ping', '1 downstream ping', '2 upstream ping', '2 downstream ping']);
    } finally {
      await observed.stop();
    }
  });

  it('blackhole accepts but never answers, so a client with a 200 ms deadline times out; held bytes arrive after', async () => {
    const client = await openClient(proxy.address().port);
    proxy.set({ kind: 'blackhole' });
    await expect(roundTrip(client, 200)).rejects.toThrow('deadline exceeded');
    const fresh = await openClient(proxy.address().port);
    await expect(roundTrip(fresh, 200)).rejects.toThrow('deadline exceeded');
    expect(proxy.stats().connectionsActive).toBe(2);
    const late = new Promise<void>((resolve) => fresh.once('data', () => resolve()));
    proxy.set({ kind: 'none' });
    await late;
    client.destroy();
    fresh.destroy();
  });

  it('reset fails open and new connections fast', async () => {
    const client = await openClient(proxy.address().port);
    const failed = new Promise<string | undefined>((resolve) =>
      client.once('error', (e: NodeJS.ErrnoException) => resolve(e.code)),
    );
    proxy.set({ kind: 'reset' });
    expect(await failed).toBe('ECONNRESET');
    const started = performance.now();
    const fresh = await openClient(proxy.address().port).catch((e: NodeJS.ErrnoException) => e);
    // Either the connect itself is reset or the first round trip is; both are fast.
    if (fresh instanceof Socket) await expect(roundTrip(fresh, 1_000)).rejects.toThrow();
    expect(performance.now() - started).toBeLessThan(200);
    expect(proxy.stats().connectionsReset).toBeGreaterThanOrEqual(2);
  });

  it('loss with probability 1 delays by retransmission timeouts but loses no byte', async () => {
    proxy.set({ kind: 'loss', probability: 1, retransmitMs: 20 });
    const client = await openClient(proxy.address().port);
    expect(await roundTrip(client)).toBeGreaterThanOrEqual(20 * 63 - 50);
    client.destroy();
  });

  it('is commanded over HTTP: PUT /fault, GET /fault, GET /stats; invalid faults are 400', async () => {
    const control = proxy.controlAddress();
    const http = (method: string, path: string, body?: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          { host: control?.host, port: control?.port, method, path, headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c) => (text += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    expect((await http('PUT', '/fault', JSON.stringify({ kind: 'latency', ms: 300 }))).status).toBe(200);
    expect(proxy.fault()).toEqual({ kind: 'latency', ms: 300 });
    expect(JSON.parse((await http('GET', '/fault')).body)).toEqual({ kind: 'latency', ms: 300 });
    expect((await http('PUT', '/fault', JSON.stringify({ kind: 'latency', ms: -1 }))).status).toBe(400);
    expect((await http('PUT', '/fault', 'nope')).status).toBe(400);
    expect(JSON.parse((await http('GET', '/stats')).body)).toMatchObject({ connectionsAccepted: 0 });
  });
});
