import { rateLimitConfigSchema } from './rate-limit.config';
import { bucketKey, bucketLimit, failurePolicy, limitedRoute } from './rate-limit-policy';

const defaults = rateLimitConfigSchema.parse({});

describe('rate-limit config', () => {
  it('has defaults for everything, with reads more generous than writes and paid above free', () => {
    expect(defaults.RATE_LIMIT_REDIS_TIMEOUT_MS).toBe(250);
    expect(defaults.RATE_LIMIT_READ_FAILURE_POLICY).toBe('fail-open');
    expect(defaults.RATE_LIMIT_WRITE_FAILURE_POLICY).toBe('fail-closed');
    expect(defaults.RATE_LIMIT_ROUTE_FAILURE_POLICIES).toEqual({});
    expect(defaults.RATE_LIMIT_FREE_READ_BURST).toBeGreaterThan(defaults.RATE_LIMIT_FREE_WRITE_BURST);
    expect(defaults.RATE_LIMIT_PAID_READ_PER_MINUTE).toBeGreaterThan(defaults.RATE_LIMIT_FREE_READ_PER_MINUTE);
  });

  it('parses numbers from strings and per-route policies from a comma-separated list', () => {
    const config = rateLimitConfigSchema.parse({
      RATE_LIMIT_FREE_READ_BURST: '7',
      RATE_LIMIT_ROUTE_FAILURE_POLICIES:
        ' GET /v1/orders/:id=fail-closed , PUT /v1/admin/products/:sku/stock=fail-open,',
    });
    expect(config.RATE_LIMIT_FREE_READ_BURST).toBe(7);
    expect(config.RATE_LIMIT_ROUTE_FAILURE_POLICIES).toEqual({
      'GET /v1/orders/:id': 'fail-closed',
      'PUT /v1/admin/products/:sku/stock': 'fail-open',
    });
  });

  it.each([
    ['RATE_LIMIT_FREE_READ_BURST', '0'],
    ['RATE_LIMIT_PAID_WRITE_PER_MINUTE', 'many'],
    ['RATE_LIMIT_REDIS_TIMEOUT_MS', '5000'],
    ['RATE_LIMIT_READ_FAILURE_POLICY', 'fail-sometimes'],
    ['RATE_LIMIT_ROUTE_FAILURE_POLICIES', 'POST /v1/orders'],
    ['RATE_LIMIT_ROUTE_FAILURE_POLICIES', 'FETCH /v1/orders=fail-open'],
    ['RATE_LIMIT_REDIS_URL', 'http://127.0.0.1:6379'],
  ])('rejects %s=%s', (name, value) => {
    expect(rateLimitConfigSchema.safeParse({ [name]: value }).success).toBe(false);
  });
});

describe('limitedRoute', () => {
  it('names /v1 routes by method and template, GET (and HEAD) as reads, the rest as writes', () => {
    expect(limitedRoute('GET', '', '/v1/orders/:id')).toEqual({ id: 'GET /v1/orders/:id', routeClass: 'read' });
    expect(limitedRoute('HEAD', '', '/v1/products')).toEqual({ id: 'GET /v1/products', routeClass: 'read' });
    expect(limitedRoute('POST', '', '/v1/orders')).toEqual({ id: 'POST /v1/orders', routeClass: 'write' });
    expect(limitedRoute('put', '', '/v1/admin/products/:sku/stock')).toEqual({
      id: 'PUT /v1/admin/products/:sku/stock',
      routeClass: 'write',
    });
  });

  it('leaves routes outside /v1 and unmatched requests alone', () => {
    expect(limitedRoute('GET', '', '/healthz')).toBeUndefined();
    expect(limitedRoute('GET', '', '/docs/openapi.json')).toBeUndefined();
    expect(limitedRoute('GET', '', '/v1')).toBeUndefined();
    expect(limitedRoute('GET', '', undefined)).toBeUndefined();
  });
});

describe('bucketLimit', () => {
  it('picks the tier and class from config, per minute → per second', () => {
    const config = rateLimitConfigSchema.parse({
      RATE_LIMIT_FREE_READ_BURST: '1',
      RATE_LIMIT_FREE_READ_PER_MINUTE: '60',
      RATE_LIMIT_FREE_WRITE_BURST: '2',
      RATE_LIMIT_FREE_WRITE_PER_MINUTE: '30',
      RATE_LIMIT_PAID_READ_BURST: '3',
      RATE_LIMIT_PAID_READ_PER_MINUTE: '120',
      RATE_LIMIT_PAID_WRITE_BURST: '4',
      RATE_LIMIT_PAID_WRITE_PER_MINUTE: '6',
    });
    expect(bucketLimit(config, 'free', 'read')).toEqual({ capacity: 1, refillPerSecond: 1 });
    expect(bucketLimit(config, 'free', 'write')).toEqual({ capacity: 2, refillPerSecond: 0.5 });
    expect(bucketLimit(config, 'paid', 'read')).toEqual({ capacity: 3, refillPerSecond: 2 });
    expect(bucketLimit(config, 'paid', 'write')).toEqual({ capacity: 4, refillPerSecond: 0.1 });
  });
});

describe('failurePolicy', () => {
  const route = (method: string, path: string) =>
    limitedRoute(method, '', path) as NonNullable<ReturnType<typeof limitedRoute>>;

  it('by default fails open for GET routes and closed for POST /v1/orders (docs/architecture.md, "Public REST contract")', () => {
    for (const path of ['/v1/orders', '/v1/orders/:id', '/v1/products', '/v1/products/:sku', '/v1/notifications']) {
      expect(failurePolicy(defaults, route('GET', path))).toBe('fail-open');
    }
    expect(failurePolicy(defaults, route('POST', '/v1/orders'))).toBe('fail-closed');
    expect(failurePolicy(defaults, route('PUT', '/v1/admin/products/:sku/stock'))).toBe('fail-closed');
  });

  it('a per-route entry wins over the class default', () => {
    const config = rateLimitConfigSchema.parse({
      RATE_LIMIT_ROUTE_FAILURE_POLICIES: 'PUT /v1/admin/products/:sku/stock=fail-open,GET /v1/orders=fail-closed',
    });
    expect(failurePolicy(config, route('PUT', '/v1/admin/products/:sku/stock'))).toBe('fail-open');
    expect(failurePolicy(config, route('GET', '/v1/orders'))).toBe('fail-closed');
    expect(failurePolicy(config, route('GET', '/v1/orders/:id'))).toBe('fail-open');
  });
});

describe('bucketKey', () => {
  it("is per user and route, and a crafted sub cannot reach another user's key", () => {
    const orders = route();
    function route() {
      return limitedRoute('GET', '', '/v1/orders') as NonNullable<ReturnType<typeof limitedRoute>>;
    }
    expect(bucketKey('alice', orders)).toBe('alice:GET /v1/orders');
    expect(bucketKey('alice:GET /v1/orders', orders)).not.toBe(
      bucketKey('alice', limitedRoute('GET', '', '/v1/orders') as never),
    );
    expect(bucketKey('a:b', orders)).toBe('a%3Ab:GET /v1/orders');
  });
});
