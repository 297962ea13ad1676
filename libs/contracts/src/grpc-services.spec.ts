// Needs src/generated/ (types only; the build runs `node libs/contracts/tools/generate.mjs` before the tests), and
// opens real loopback sockets: the round trips below prove the contracts work over the wire, not just in memory.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import {
  GRPC_SERVICES,
  HEALTH_V1,
  INVENTORY_V1,
  NOTIFICATIONS_V1,
  ORDERS_V1,
  PROTO_LOADER_OPTIONS,
  PROTO_ROOT,
  RECOMMENDATIONS_V1,
  grpcTransportOptions,
  loadGrpcObject,
  loadPackageDefinition,
  type GrpcServiceContract,
  type HealthV1,
  type NestGrpcClient,
  type NestGrpcController,
  type OrdersV1,
} from './index';
import protoLoaderOptionsJson from './proto-loader-options.json';

const expectedMethods: Array<[GrpcServiceContract, string[]]> = [
  [ORDERS_V1, ['PlaceOrder', 'GetOrder', 'ListOrders', 'GetTopSellers']],
  [INVENTORY_V1, ['GetProduct', 'ListProducts', 'SetStock']],
  [RECOMMENDATIONS_V1, ['GetRecommendations']],
  [NOTIFICATIONS_V1, ['ListNotifications']],
  [HEALTH_V1, ['Check', 'Watch']],
];

describe('gRPC contracts', () => {
  it('builds PROTO_LOADER_OPTIONS from the same file the generator reads', () => {
    expect(PROTO_LOADER_OPTIONS).toMatchObject({
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
      includeDirs: [PROTO_ROOT],
    });
    for (const key of Object.keys(protoLoaderOptionsJson)) expect(PROTO_LOADER_OPTIONS).toHaveProperty(key);
    expect(Object.isFrozen(PROTO_LOADER_OPTIONS)).toBe(true);
  });

  it('covers every service, with absolute proto paths that exist', () => {
    expect(GRPC_SERVICES).toHaveLength(expectedMethods.length);
    for (const contract of GRPC_SERVICES) {
      expect(contract.protoPath.startsWith(PROTO_ROOT)).toBe(true);
      expect(existsSync(contract.protoPath)).toBe(true);
      expect(contract.fullName).toBe(`${contract.package}.${contract.service}`);
    }
  });

  it.each(expectedMethods.map(([c, methods]) => [c.fullName, c, methods] as const))(
    '%s loads with PROTO_LOADER_OPTIONS and exposes its methods',
    (fullName, contract, methods) => {
      const definition = protoLoader.loadSync(contract.protoPath, PROTO_LOADER_OPTIONS);
      const service = definition[fullName] as protoLoader.ServiceDefinition;
      expect(service).toBeDefined();
      expect(Object.keys(service).sort()).toEqual([...methods].sort());
      for (const method of Object.values(service)) expect(method.path.startsWith(`/${fullName}/`)).toBe(true);
      expect(Object.keys(loadPackageDefinition(contract))).toContain(fullName);
    },
  );

  it('gives Nest the options for several services at once', () => {
    expect(grpcTransportOptions(ORDERS_V1, HEALTH_V1)).toEqual({
      package: ['faultline.orders.v1', 'grpc.health.v1'],
      protoPath: [ORDERS_V1.protoPath, HEALTH_V1.protoPath],
      loader: PROTO_LOADER_OPTIONS,
    });
  });
});

describe('gRPC over a loopback socket', () => {
  let server: grpc.Server;
  let address: string;
  const clients: grpc.Client[] = [];

  beforeAll(async () => {
    server = new grpc.Server();
    const health = loadGrpcObject(HEALTH_V1).grpc.health.v1.Health;
    const healthHandlers: HealthV1.Handlers = {
      Check: (call, callback) => {
        if (call.request.service === '' || call.request.service === ORDERS_V1.fullName) {
          callback(null, { status: 'SERVING' });
        } else {
          callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
        }
      },
      Watch: (call) => {
        call.write({ status: 'SERVING' });
        call.end();
      },
    };
    server.addService(health.service, healthHandlers);

    const orders = loadGrpcObject(ORDERS_V1).faultline.orders.v1.OrdersService;
    const unimplemented: grpc.handleUnaryCall<unknown, never> = (_call, callback) =>
      callback({ code: grpc.status.UNIMPLEMENTED });
    const ordersHandlers: OrdersV1.Handlers = {
      // Deliberately sparse answer: the client must still see every field (defaults) with string enums, camelCase.
      PlaceOrder: (call, callback) =>
        callback(null, { order: { id: 'o-1', status: 'PENDING', items: call.request.items }, responseStatus: 201 }),
      GetOrder: unimplemented,
      ListOrders: unimplemented,
      GetTopSellers: unimplemented,
    };
    server.addService(orders.service, ordersHandlers);

    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, boundPort) =>
        error ? reject(error) : resolve(boundPort),
      ),
    );
    address = `127.0.0.1:${port}`;
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  function healthClient(): HealthV1.Client {
    const Health = loadGrpcObject(HEALTH_V1).grpc.health.v1.Health;
    const client = new Health(address, grpc.credentials.createInsecure());
    clients.push(client);
    return client;
  }

  const deadline = () => Date.now() + 5_000;

  it('Health.Check answers SERVING', async () => {
    const response = await new Promise<HealthV1.HealthCheckResponse | undefined>((resolve, reject) =>
      healthClient().check({ service: '' }, { deadline: deadline() }, (error, value) =>
        error ? reject(error) : resolve(value),
      ),
    );
    expect(response).toEqual({ status: 'SERVING' });
  });

  it('Health.Check for an unknown service is NOT_FOUND', async () => {
    const error = await new Promise<grpc.ServiceError | null>((resolve) =>
      healthClient().check({ service: 'nope.v1.Nope' }, { deadline: deadline() }, (err) => resolve(err)),
    );
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
  });

  it('Health.Watch streams the status', async () => {
    const statuses: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = healthClient().watch({ service: '' }, { deadline: deadline() });
      stream.on('data', (message: HealthV1.HealthCheckResponse) => statuses.push(message.status));
      stream.on('error', reject);
      stream.on('end', resolve);
    });
    expect(statuses).toEqual(['SERVING']);
  });

  it('OrdersService.PlaceOrder arrives with every field, camelCase names and enum names', async () => {
    const Orders = loadGrpcObject(ORDERS_V1).faultline.orders.v1.OrdersService;
    const client = new Orders(address, grpc.credentials.createInsecure());
    clients.push(client);
    const response = await new Promise<OrdersV1.PlaceOrderResponse | undefined>((resolve, reject) =>
      client.placeOrder(
        { customerId: 'alice', idempotencyKey: 'k-1', items: [{ sku: 'SKU-0001', quantity: 2 }] },
        { deadline: deadline() },
        (error, value) => (error ? reject(error) : resolve(value)),
      ),
    );
    expect(response).toEqual({
      order: {
        id: 'o-1',
        customerId: '',
        status: 'PENDING',
        items: [{ sku: 'SKU-0001', quantity: 2 }],
        createdAt: '',
      },
      replayed: false,
      responseStatus: 201,
    });
  });
});

// Type-level checks, compiled by `npm run typecheck` (jest only transpiles): the Nest views of a definition have
// one method per RPC with the right message types.
type OrdersClient = NestGrpcClient<OrdersV1.Definition>;
type OrdersController = NestGrpcController<OrdersV1.Definition>;
const _clientHasMethods: keyof OrdersClient = 'placeOrder' satisfies
  'placeOrder' | 'getOrder' | 'listOrders' | 'getTopSellers';
const _placeOrderRequest: Parameters<OrdersClient['placeOrder']>[0] = { customerId: 'alice' };
const _controllerReceives: Parameters<OrdersController['getOrder']>[0] = {
  orderId: 'o',
  customerId: 'c',
  isAdmin: false,
};
void [_clientHasMethods, _placeOrderRequest, _controllerReceives];
// @ts-expect-error: a controller receives the populated request, so a wrong field type is an error.
const _wrongField: Parameters<OrdersController['getOrder']>[0] = { orderId: 1, customerId: 'c', isAdmin: false };
// @ts-expect-error: there is no such RPC.
const _noSuchRpc: keyof OrdersClient = 'deleteOrder';
void [_wrongField, _noSuchRpc];
