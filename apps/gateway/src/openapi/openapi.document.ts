// The OpenAPI 3.1 document of the public REST API, generated from the same zod schemas the handlers validate with
// (z.toJSONSchema), so the document cannot drift from the code. Served at /docs/openapi.json and exported to
// apps/gateway/openapi.json (export-openapi.ts); a unit spec fails when the committed file is stale.
import { z } from 'zod';
import { problemDetailsSchema } from '../errors/problem-details';
import {
  listNotificationsQuerySchema,
  listNotificationsResponseSchema,
} from '../notifications/notifications.http-schema';
import {
  idempotencyKeySchema,
  listOrdersQuerySchema,
  listOrdersResponseSchema,
  orderIdParamsSchema,
  orderSchema,
  placeOrderBodySchema,
} from '../orders/orders.http-schema';
import {
  recommendationsQuerySchema,
  recommendationsResponseSchema,
} from '../recommendations/recommendations.http-schema';
import {
  listProductsQuerySchema,
  listProductsResponseSchema,
  productSchema,
  setStockBodySchema,
  skuParamsSchema,
} from '../products/products.http-schema';

type JsonSchema = Record<string, unknown>;
type Method = 'get' | 'post' | 'put';
type Access = 'public' | 'authenticated' | 'admin';

const SCHEMAS = {
  Product: [productSchema, 'output'],
  ProductPage: [listProductsResponseSchema, 'output'],
  SetStockRequest: [setStockBodySchema, 'input'],
  PlaceOrderRequest: [placeOrderBodySchema, 'input'],
  Order: [orderSchema, 'output'],
  OrderPage: [listOrdersResponseSchema, 'output'],
  NotificationList: [listNotificationsResponseSchema, 'output'],
  Recommendations: [recommendationsResponseSchema, 'output'],
  ProblemDetails: [problemDetailsSchema, 'output'],
} as const satisfies Record<string, readonly [z.ZodType, 'input' | 'output']>;
type SchemaName = keyof typeof SCHEMAS;

/** Problem responses by status; every one is application/problem+json with a ProblemDetails body. */
const PROBLEMS = {
  400: 'Validation failed (errors names every offending field), malformed JSON, or a missing Idempotency-Key.',
  401: 'No access token, or it is invalid, expired, for another issuer or audience, or not RS256.',
  403: 'The token is valid but its role may not use this route.',
  404: 'No such resource (also: an order of another customer, a malformed id or SKU, an unknown route).',
  405: 'The path exists but not with this method (see Allow).',
  409: 'The same Idempotency-Key is still being processed.',
  413: 'The request body is larger than the limit.',
  415: 'The request body is not application/json.',
  422: 'The Idempotency-Key was already used with a different request body.',
  429: 'Over the rate limit of this user and route, or a dependency refused for lack of capacity (see Retry-After).',
  502: 'A dependency failed.',
  503: 'A dependency is unavailable (its circuit breaker may be open), the gateway is at capacity for this kind of request, or the rate limiter is unavailable on a fail-closed route (see Retry-After).',
  504: 'A dependency did not answer within its deadline.',
} as const;
type ProblemStatus = keyof typeof PROBLEMS;

/** Every route the gateway serves, with what the document says about it. Also the table 405 answers are based on. */
interface RouteDoc {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  access: Access;
  pathParams?: z.ZodObject;
  query?: z.ZodObject;
  headers?: Record<string, { schema: z.ZodType; required: boolean; description: string }>;
  body?: SchemaName;
  success: { status: number; description: string; schema?: SchemaName; headers?: Record<string, string> };
  problems: ProblemStatus[];
}

const DEPENDENCY: ProblemStatus[] = [502, 503, 504];

export const GATEWAY_ROUTES: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/orders',
    operationId: 'placeOrder',
    summary: 'Place an order (status PENDING) for the caller; idempotent per Idempotency-Key.',
    access: 'authenticated',
    headers: {
      'Idempotency-Key': {
        schema: idempotencyKeySchema,
        required: true,
        description: idempotencyKeySchema.description ?? '',
      },
    },
    body: 'PlaceOrderRequest',
    success: {
      status: 201,
      description: 'Created; a replay of the same key and body answers the stored status and body again.',
      schema: 'Order',
      headers: {
        Location: '/v1/orders/{id}',
        'Idempotent-Replayed': '"true" when this is the stored answer to an earlier request.',
      },
    },
    problems: [400, 401, 409, 413, 415, 422, 429, ...DEPENDENCY],
  },
  {
    method: 'get',
    path: '/v1/orders',
    operationId: 'listOrders',
    summary: "The caller's orders (an admin's: everyone's), newest first, cursor-paginated.",
    access: 'authenticated',
    query: listOrdersQuerySchema,
    success: {
      status: 200,
      description: 'One page of orders.',
      schema: 'OrderPage',
      headers: { 'X-Query-Count': 'How many SQL queries orders made for this page (the N+1 lab).' },
    },
    problems: [400, 401, 429, ...DEPENDENCY],
  },
  {
    method: 'get',
    path: '/v1/orders/{id}',
    operationId: 'getOrder',
    summary: "One order with its current status. Another customer's order is 404 (admins see all).",
    access: 'authenticated',
    pathParams: orderIdParamsSchema,
    success: { status: 200, description: 'The order.', schema: 'Order' },
    problems: [401, 404, 429, ...DEPENDENCY],
  },
  {
    method: 'get',
    path: '/v1/products',
    operationId: 'listProducts',
    summary: 'The catalogue by SKU with available stock, cursor-paginated.',
    access: 'authenticated',
    query: listProductsQuerySchema,
    success: { status: 200, description: 'One page of products.', schema: 'ProductPage' },
    problems: [400, 401, 429, ...DEPENDENCY],
  },
  {
    method: 'get',
    path: '/v1/products/{sku}',
    operationId: 'getProduct',
    summary: 'One product with its available stock.',
    access: 'authenticated',
    pathParams: skuParamsSchema,
    success: { status: 200, description: 'The product.', schema: 'Product' },
    problems: [401, 404, 429, ...DEPENDENCY],
  },
  {
    method: 'put',
    path: '/v1/admin/products/{sku}/stock',
    operationId: 'setStock',
    summary: 'Set the absolute available stock of a product (admins only).',
    access: 'admin',
    pathParams: skuParamsSchema,
    body: 'SetStockRequest',
    success: { status: 200, description: 'The product with its new stock.', schema: 'Product' },
    problems: [400, 401, 403, 404, 413, 415, 429, ...DEPENDENCY],
  },
  {
    method: 'get',
    path: '/v1/notifications',
    operationId: 'listNotifications',
    summary: "The caller's notifications (one per order outcome), newest first.",
    access: 'authenticated',
    query: listNotificationsQuerySchema,
    success: {
      status: 200,
      description:
        "The caller's notifications: a bare array. The feed is eventually consistent: an order's outcome appears after the saga's events reach it.",
      schema: 'NotificationList',
      headers: {
        'Data-As-Of':
          'RFC 3339: every order event committed up to this time is in the feed; now minus it bounds how stale the feed is. Absent while the service cannot say.',
      },
    },
    problems: [400, 401, 429, ...DEPENDENCY],
  },
  {
    method: 'get',
    path: '/v1/recommendations',
    operationId: 'getRecommendations',
    summary:
      'The most popular SKUs. When recommendations is slow or down: a static default within the latency budget (source "fallback").',
    access: 'authenticated',
    query: recommendationsQuerySchema,
    success: {
      status: 200,
      description: 'Recommendations, best first, and where they came from.',
      schema: 'Recommendations',
    },
    // Never 502/504: a failing recommendations service is answered by the fallback. 503 only when shed.
    problems: [400, 401, 429, 503],
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'healthz',
    summary: 'Liveness.',
    access: 'public',
    success: { status: 200, description: 'Alive.' },
    problems: [],
  },
  {
    method: 'get',
    path: '/readyz',
    operationId: 'readyz',
    summary:
      'Readiness in the READINESS scope: the process alone (Kubernetes), or also Redis and the gRPC health of orders, inventory and notifications (the local target).',
    access: 'public',
    success: { status: 200, description: 'Ready (503 when not, with the failing checks in the dependencies scope).' },
    problems: [],
  },
  {
    method: 'get',
    path: '/readyz/dependencies',
    operationId: 'readyzDependencies',
    summary: 'Every dependency probed now (Redis, orders, inventory, notifications), whatever the readiness scope.',
    access: 'public',
    success: { status: 200, description: 'All answer (503 with the failing checks when not).' },
    problems: [],
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    summary: 'Prometheus metrics.',
    access: 'public',
    success: { status: 200, description: 'Prometheus text format.' },
    problems: [],
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'docs',
    summary: 'A page linking this document.',
    access: 'public',
    success: { status: 200, description: 'HTML.' },
    problems: [],
  },
  {
    method: 'get',
    path: '/docs/openapi.json',
    operationId: 'openapi',
    summary: 'This OpenAPI document.',
    access: 'public',
    success: { status: 200, description: 'OpenAPI 3.1 JSON.' },
    problems: [],
  },
];

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const ref = (name: string, kind: 'schemas' | 'responses' = 'schemas') => ({ $ref: `#/components/${kind}/${name}` });

function parameters(where: 'path' | 'query', object: z.ZodObject | undefined) {
  if (!object) return [];
  const schema = jsonSchema(object, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (schema.required ?? []).includes(name),
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
    schema: property,
  }));
}

/** Every /v1 answer carries the caller's bucket for that route (docs/architecture.md, "Public REST contract"). */
const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': { description: 'Requests the bucket holds when full.', schema: { type: 'integer' } },
  'RateLimit-Remaining': { description: 'Requests left now.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the bucket is full again.', schema: { type: 'integer' } },
};

function operation(route: RouteDoc) {
  const headerParams = Object.entries(route.headers ?? {}).map(([name, h]) => ({
    name,
    in: 'header',
    required: h.required,
    description: h.description,
    schema: jsonSchema(h.schema, 'input'),
  }));
  const params = [...parameters('path', route.pathParams), ...parameters('query', route.query), ...headerParams];
  const successHeaders = {
    ...Object.fromEntries(
      Object.entries(route.success.headers ?? {}).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    ),
    ...(route.path.startsWith('/v1/') ? RATE_LIMIT_HEADERS : {}),
  };
  const success = {
    description: route.success.description,
    ...(Object.keys(successHeaders).length ? { headers: successHeaders } : {}),
    ...(route.success.schema ? { content: { 'application/json': { schema: ref(route.success.schema) } } } : {}),
  };
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.access === 'admin' ? { description: 'Requires a token with role admin; other roles get 403.' } : {}),
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(params.length ? { parameters: params } : {}),
    ...(route.body
      ? { requestBody: { required: true, content: { 'application/json': { schema: ref(route.body) } } } }
      : {}),
    responses: {
      [String(route.success.status)]: success,
      ...Object.fromEntries(route.problems.map((status) => [String(status), ref(`Problem${status}`, 'responses')])),
    },
  };
}

export function buildOpenApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of GATEWAY_ROUTES) (paths[route.path] ??= {})[route.method] = operation(route);
  const retryAfter = {
    'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Faultline gateway',
      version: '1.0.0',
      description:
        'The public REST API of the Faultline lab. Every error is application/problem+json (RFC 9457) with a traceId, ' +
        'also sent as the traceparent response header.',
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    security: [{ bearerAuth: [] }],
    paths,
    components: {
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'RS256 JWT from `lab token` (claims sub, role, tier, exp, iss, aud).',
        },
      },
      schemas: Object.fromEntries(
        Object.entries(SCHEMAS).map(([name, [schema, io]]) => [name, jsonSchema(schema, io)]),
      ),
      responses: Object.fromEntries(
        Object.entries(PROBLEMS).map(([status, description]) => [
          `Problem${status}`,
          {
            description,
            ...(status === '503' || status === '429' ? { headers: retryAfter } : {}),
            ...(status === '405'
              ? { headers: { Allow: { description: 'The methods this path accepts.', schema: { type: 'string' } } } }
              : {}),
            content: { 'application/problem+json': { schema: ref('ProblemDetails') } },
          },
        ]),
      ),
    },
  };
}

/** The methods the gateway serves at a concrete path (e.g. ['GET'] for /v1/orders/123), for 405 and Allow. */
export function allowedMethods(path: string): string[] {
  const methods = new Set<string>();
  for (const route of GATEWAY_ROUTES) {
    const pattern = new RegExp(`^${route.path.replace(/\{[^}]+\}/g, '[^/]+')}/?$`);
    if (pattern.test(path)) methods.add(route.method.toUpperCase());
  }
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods];
}
