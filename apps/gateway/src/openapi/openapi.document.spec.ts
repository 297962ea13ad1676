import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApiDocument } from './export-openapi';
import { allowedMethods, buildOpenApiDocument, GATEWAY_ROUTES } from './openapi.document';

describe('OpenAPI document', () => {
  const document = buildOpenApiDocument() as {
    paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    components: Record<string, Record<string, unknown>>;
  };

  it('equals the committed apps/gateway/openapi.json (regenerate: node dist/apps/gateway/src/openapi/export-openapi.js)', () => {
    const committed = readFileSync(join(__dirname, '..', '..', 'openapi.json'), 'utf8');
    expect(committed).toBe(renderOpenApiDocument());
  });

  it('describes every /v1 route with a success and its problem responses, and every $ref resolves', () => {
    for (const route of GATEWAY_ROUTES) expect(document.paths[route.path][route.method].responses).toBeDefined();
    const text = JSON.stringify(document);
    for (const [, kind, name] of text.matchAll(/"#\/components\/(\w+)\/(\w+)"/g))
      expect(document.components[kind][name]).toBeDefined();
    expect(document.paths['/v1/orders'].post.responses).toEqual(
      expect.objectContaining({ '201': expect.anything(), '400': expect.anything(), '422': expect.anything() }),
    );
  });

  it('knows which methods a concrete path accepts', () => {
    expect(allowedMethods('/v1/orders')).toEqual(['POST', 'GET', 'HEAD']);
    expect(allowedMethods('/v1/admin/products/SKU-0001/stock')).toEqual(['PUT']);
    expect(allowedMethods('/v1/nothing')).toEqual([]);
  });
});
