import { listNotificationsQuerySchema } from '../notifications/notifications.http-schema';
import {
  listOrdersQuerySchema,
  orderIdParamsSchema,
  placeOrderBodySchema,
  placeOrderHeadersSchema,
} from '../orders/orders.http-schema';
import { setStockBodySchema, skuParamsSchema } from '../products/products.http-schema';
import { ProblemException } from '../errors/problem-details';
import { InputLocation, validateInput } from './validate-input';

const item = { sku: 'SKU-0001', quantity: 1 };
const manyItems = (n: number) => Array.from({ length: n }, () => item);

function rejectedFields(
  schema: Parameters<typeof validateInput>[0],
  value: unknown,
  location: InputLocation,
): string[] {
  try {
    validateInput(schema, value, location);
  } catch (error) {
    expect(error).toBeInstanceOf(ProblemException);
    const problem = error as ProblemException;
    expect(problem.status).toBe(400);
    return (problem.init.errors ?? []).map((e) => e.field);
  }
  throw new Error('expected a validation failure');
}

describe('validation of POST /v1/orders', () => {
  it.each([
    ['no items field', {}, 'items'],
    ['an empty items list', { items: [] }, 'items'],
    ['21 items', { items: manyItems(21) }, 'items'],
    ['items not a list', { items: 'SKU-0001' }, 'items'],
    ['quantity 0', { items: [{ ...item, quantity: 0 }] }, 'items[0].quantity'],
    ['quantity 101', { items: [{ ...item, quantity: 101 }] }, 'items[0].quantity'],
    ['a fractional quantity', { items: [{ ...item, quantity: 1.5 }] }, 'items[0].quantity'],
    ['a quantity as a string', { items: [{ ...item, quantity: '1' }] }, 'items[0].quantity'],
    ['a missing sku', { items: [{ quantity: 1 }] }, 'items[0].sku'],
    ['a malformed sku', { items: [item, { ...item, sku: 'sku-1' }] }, 'items[1].sku'],
    ['an overlong sku', { items: [{ ...item, sku: `SKU-${'1'.repeat(300)}` }] }, 'items[0].sku'],
    ['an unknown field in an item', { items: [{ ...item, price: 1 }] }, 'items[0].price'],
    ['an unknown top-level field', { items: [item], customerId: 'mallory' }, 'customerId'],
    ['a body that is not an object', [item], 'body'],
    ['no body', undefined, 'body'],
  ])('rejects %s, naming %s', (_case, body, field) => {
    expect(rejectedFields(placeOrderBodySchema, body, 'body')).toContain(field);
  });

  it('accepts 1 and 20 items with quantities 1 and 100', () => {
    expect(validateInput(placeOrderBodySchema, { items: [{ ...item, quantity: 100 }] }, 'body').items).toHaveLength(1);
    expect(validateInput(placeOrderBodySchema, { items: manyItems(20) }, 'body').items).toHaveLength(20);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['256 characters', 'k'.repeat(256)],
    ['with a space', 'a b'],
    ['with a non-ASCII character', 'clé'],
    ['with a control character', 'a\u0001'],
  ])('rejects an Idempotency-Key that is %s', (_case, key) => {
    expect(rejectedFields(placeOrderHeadersSchema, { 'Idempotency-Key': key }, 'header')).toEqual(['Idempotency-Key']);
  });

  it('accepts a 255-character visible ASCII Idempotency-Key', () => {
    const key = '!~'.repeat(127) + 'x';
    expect(validateInput(placeOrderHeadersSchema, { 'Idempotency-Key': key }, 'header')['Idempotency-Key']).toBe(key);
  });
});

describe('validation of queries, paths and the stock body', () => {
  it.each([
    ['limit 0', listOrdersQuerySchema, { limit: '0' }, 'limit'],
    ['limit 101', listOrdersQuerySchema, { limit: '101' }, 'limit'],
    ['limit not a number', listOrdersQuerySchema, { limit: 'ten' }, 'limit'],
    ['limit repeated', listOrdersQuerySchema, { limit: ['1', '2'] }, 'limit'],
    ['an empty cursor', listOrdersQuerySchema, { cursor: '' }, 'cursor'],
    ['an overlong cursor', listOrdersQuerySchema, { cursor: 'c'.repeat(513) }, 'cursor'],
    ['an unknown query parameter', listOrdersQuerySchema, { sort: 'asc' }, 'sort'],
    ['a notifications limit of 1000', listNotificationsQuerySchema, { limit: '1000' }, 'limit'],
    ['a non-UUID order id', orderIdParamsSchema, { id: '42' }, 'id'],
    ['a malformed SKU in a path', skuParamsSchema, { sku: 'SKU-1' }, 'sku'],
    ['negative stock', setStockBodySchema, { available: -1 }, 'available'],
    ['stock above 1,000,000', setStockBodySchema, { available: 1_000_001 }, 'available'],
    ['fractional stock', setStockBodySchema, { available: 0.5 }, 'available'],
    ['stock as a string', setStockBodySchema, { available: '5' }, 'available'],
    ['an unknown field in the stock body', setStockBodySchema, { available: 1, sku: 'SKU-0001' }, 'sku'],
  ] as const)('rejects %s, naming %s', (_case, schema, value, field) => {
    expect(rejectedFields(schema, value, 'query')).toContain(field);
  });

  it('accepts the bounds', () => {
    expect(validateInput(listOrdersQuerySchema, { limit: '100', cursor: 'abc' }, 'query')).toEqual({
      limit: 100,
      cursor: 'abc',
    });
    expect(validateInput(listOrdersQuerySchema, {}, 'query')).toEqual({});
    expect(validateInput(setStockBodySchema, { available: 0 }, 'body')).toEqual({ available: 0 });
    expect(validateInput(setStockBodySchema, { available: 1_000_000 }, 'body')).toEqual({ available: 1_000_000 });
  });
});
