import { join } from 'node:path';
import { Controller, Get, Header, Param, Res } from '@nestjs/common';
import type { Response } from 'express';
import { PublicRoute } from '../auth/route-access';
import { ProblemException } from '../errors/problem-details';
import { buildOpenApiDocument } from './openapi.document';

/** Swagger UI's files, served by the gateway itself from the npm package (no CDN): only these. */
const SWAGGER_UI_DIR = join(require.resolve('swagger-ui-dist/package.json'), '..');
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};

/** The page's own script (no inline script, so a Content-Security-Policy of 'self' holds). */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  window.ui = SwaggerUIBundle({
    url: '/docs/openapi.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
`;

const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Faultline gateway API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<style>.faultline-token { max-width: 1460px; margin: 1em auto; padding: 0 20px; font-family: sans-serif; line-height: 1.5 }
.faultline-token code, .faultline-token pre { background: #f3f3f3; padding: 0 .3em }</style></head>
<body>
<section class="faultline-token" id="token-flow">
<h1>Faultline gateway API</h1>
<p>Every route but the health, metrics and these docs needs an access token: an RS256 JWT signed with the lab's key.
Mint one on the machine that runs the lab, then click <b>Authorize</b> below and paste it (without <code>Bearer</code>):</p>
<pre>npx lab token --sub alice --role customer --tier free     # a customer: their own orders, the catalogue
npx lab token --sub ops --role admin --tier paid          # an admin: PUT /v1/admin/products/{sku}/stock too</pre>
<p>Tokens carry <code>sub</code>, <code>role</code>, <code>tier</code> (rate limits), <code>exp</code> and a <code>jti</code>
that <code>npx lab revoke &lt;token&gt;</code> refuses from then on. <code>POST /v1/orders</code> needs an
<code>Idempotency-Key</code> header. Errors are <code>application/problem+json</code>. The document itself:
<a href="/docs/openapi.json">/docs/openapi.json</a>.</p>
</section>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs.js"></script>
</body></html>
`;

/**
 * The API's documentation, public like health and metrics: Swagger UI over the OpenAPI document, with the token flow.
 */
@Controller('docs')
@PublicRoute()
export class DocsHttpController {
  private readonly document = buildOpenApiDocument();

  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:")
  page(): string {
    return DOCS_PAGE;
  }

  @Get('openapi.json')
  openapi(): Record<string, unknown> {
    return this.document;
  }

  @Get('assets/docs.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  script(): string {
    return INIT_SCRIPT;
  }

  @Get('assets/:file')
  asset(@Param('file') file: string, @Res() res: Response): void {
    const type = Object.hasOwn(ASSETS, file) ? ASSETS[file] : undefined;
    if (!type) throw new ProblemException('notFound', { detail: 'No such file of the API docs.' });
    res.setHeader('Cache-Control', 'public, max-age=86400');
    res.type(type).sendFile(join(SWAGGER_UI_DIR, file));
  }
}
