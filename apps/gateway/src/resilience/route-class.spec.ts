import { routeClassOf } from './route-class';

describe('routeClassOf', () => {
  it.each([
    ['GET', '/v1/recommendations', 'recommendations'],
    ['GET', '/v1/products', 'reads'],
    ['GET', '/v1/orders/abc', 'reads'],
    ['GET', '/v1/notifications', 'reads'],
    ['POST', '/v1/orders', 'writes'],
    ['PUT', '/v1/admin/products/SKU-0001/stock', 'writes'],
    ['GET', '/healthz', undefined],
    ['GET', '/metrics', undefined],
    ['GET', '/docs/openapi.json', undefined],
  ])('%s %s -> %s', (method, path, cls) => {
    expect(routeClassOf(method, path)).toBe(cls);
  });
});
