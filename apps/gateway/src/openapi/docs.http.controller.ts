import { Controller, Get, Header } from '@nestjs/common';
import { PublicRoute } from '../auth/route-access';
import { buildOpenApiDocument } from './openapi.document';

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultline gateway API</title></head>
<body><h1>Faultline gateway API</h1>
<p>The OpenAPI 3.1 document: <a href="/docs/openapi.json">/docs/openapi.json</a>
(also committed as apps/gateway/openapi.json). Open it in any OpenAPI viewer.</p></body></html>
`;

/** The API's documentation, public like health and metrics. Plain HTML: no UI bundle to serve or audit. */
@Controller('docs')
@PublicRoute()
export class DocsHttpController {
  private readonly document = buildOpenApiDocument();

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  page(): string {
    return DOCS_PAGE;
  }

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }
}
