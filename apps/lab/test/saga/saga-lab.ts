// A full lab for the order-saga tests (its own state folder and ports), with typed gRPC clients for orders and
// inventory and direct SQL access to the service databases for the assertions that matter: what is in the data.
import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { INVENTORY_V1, InventoryV1, loadGrpcObject, ORDERS_V1, OrdersV1 } from '@faultline/contracts';
import { eventually, labCli, repoRoot } from '@faultline/testing';
import { postgresUrl } from '../../src/infra/infra';
import { labSql } from '../../src/infra/lab-sql';
import { LabLayout, resolveLayout } from '../../src/layout/lab-layout';

export interface SagaLab {
  layout: LabLayout;
  env: Record<string, string>;
  cli: ReturnType<typeof labCli>;
  orders: Rpc<OrdersV1.Client>;
  inventory: Rpc<InventoryV1.Client>;
  sql(
    database: 'orders' | 'inventory' | 'notifications',
    text: string,
    params?: unknown[],
  ): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

type Callback<R> = (error: grpc.ServiceError | null, response?: R) => void;
/** A promise-returning view of a grpc-js client: `rpc.PlaceOrder(request)` with a 10 s deadline. */
export type Rpc<C> = {
  // Generated clients are overloaded; inference sees the last overload, `(argument, callback)`.
  [M in keyof C as M extends string ? (M extends Capitalize<M> ? M : never) : never]: C[M] extends (
    req: infer Q,
    cb: Callback<infer R>,
  ) => unknown
    ? (request: Q) => Promise<R>
    : never;
};

function promisify<C extends grpc.Client>(client: C): Rpc<C> {
  return new Proxy({} as Rpc<C>, {
    get: (_target, method: string) => (request: unknown) =>
      new Promise((resolve, reject) => {
        (
          client as unknown as Record<
            string,
            (r: unknown, m: grpc.Metadata, o: grpc.CallOptions, cb: Callback<unknown>) => void
          >
        )[method](request, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (error, response) =>
          error ? reject(error) : resolve(response),
        );
      }),
  });
}

export function ordersClient(address: string): Rpc<OrdersV1.Client> {
  const { OrdersService } = loadGrpcObject(ORDERS_V1).faultline.orders.v1;
  return promisify(new OrdersService(address, grpc.credentials.createInsecure()));
}

export async function startSagaLab(stateDir: string, portOffset: number): Promise<SagaLab> {
  const env = { LAB_STATE_DIR: stateDir, LAB_PORT_OFFSET: String(portOffset), LAB_GATEWAY_PORT: '' };
  const layout = resolveLayout(env, repoRoot);
  const cli = labCli(env);
  const up = await cli.exec('up');
  if (up.code !== 0) {
    // Leave nothing half-started behind: the suite's afterAll never sees a lab it could not start.
    await cli.exec('down');
    throw new Error(`lab up failed:\n${up.stderr}`);
  }
  const { InventoryService } = loadGrpcObject(INVENTORY_V1).faultline.inventory.v1;
  const databases = labSql(layout);
  return {
    layout,
    env,
    cli,
    orders: ordersClient(`127.0.0.1:${layout.ports.ordersGrpc}`),
    inventory: promisify(
      new InventoryService(`127.0.0.1:${layout.ports.inventoryGrpc}`, grpc.credentials.createInsecure()),
    ),
    sql: (database, text, params) => databases.query(database, text, params),
    async close() {
      await databases.close();
      await cli.exec('down');
    },
  };
}

/** The hash the gateway computes; any stable string will do for tests that talk to orders directly. */
export const requestHash = (body: unknown) => createHash('sha256').update(JSON.stringify(body)).digest('hex');

export function placeOrderRequest(
  customerId: string,
  items: { sku: string; quantity: number }[],
  key: string = randomUUID(),
): OrdersV1.PlaceOrderRequestInput {
  return { customerId, customerName: customerId, idempotencyKey: key, requestHash: requestHash(items), items };
}

/** The order in a PlaceOrder answer; proto3 makes message fields optional, a success always carries one. */
export function orderOf(response: OrdersV1.PlaceOrderResponse | { order?: { id: string; status?: string } | null }): {
  id: string;
  status?: string;
} {
  if (!response.order) throw new Error('PlaceOrder answered without an order');
  return response.order;
}

/** Waits until none of these orders is PENDING any more; returns their final statuses. */
export async function awaitFinal(lab: SagaLab, orderIds: string[], timeoutMs = 120_000): Promise<Map<string, string>> {
  return eventually(
    `${orderIds.length} orders to reach a final state`,
    async () => {
      const rows = await lab.sql('orders', 'SELECT id, status FROM orders WHERE id = ANY($1::uuid[])', [orderIds]);
      if (rows.length !== orderIds.length || rows.some((r) => r['status'] === 'PENDING')) return undefined;
      return new Map(rows.map((r) => [String(r['id']), String(r['status'])]));
    },
    timeoutMs,
    250,
  );
}

/** Starts an extra orders process on other ports against the lab's database, e.g. with a naive variant switched on. */
export async function startExtraOrders(
  lab: SagaLab,
  env: Record<string, string>,
  ports: { http: number; grpc: number },
): Promise<{ process: ChildProcess; client: Rpc<OrdersV1.Client> }> {
  const child = spawn(process.execPath, [join(repoRoot, 'dist/apps/orders/src/main.js')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      LAB_STATE_DIR: lab.layout.stateDir,
      HTTP_PORT: String(ports.http),
      GRPC_PORT: String(ports.grpc),
      DATABASE_URL: postgresUrl(lab.layout, 'orders'),
      KAFKA_BROKERS: `127.0.0.1:${lab.layout.ports.kafka}`,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await eventually(
    'the extra orders process to be ready',
    async () => (await fetch(`http://127.0.0.1:${ports.http}/readyz`)).ok,
    60_000,
  );
  return { process: child, client: ordersClient(`127.0.0.1:${ports.grpc}`) };
}

/** Sum of a counter over all its series in a service's /metrics. */
export async function counterSum(port: number, name: string, labelFilter = ''): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labelFilter))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
