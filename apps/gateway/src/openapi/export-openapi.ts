// Writes the OpenAPI document to apps/gateway/openapi.json (or the path given), from the repository root:
//   npm run build && node dist/apps/gateway/src/openapi/export-openapi.js
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildOpenApiDocument } from './openapi.document';

export const OPENAPI_FILE = 'apps/gateway/openapi.json';

export function renderOpenApiDocument(): string {
  return `${JSON.stringify(buildOpenApiDocument(), null, 2)}\n`;
}

if (require.main === module) {
  const target = resolve(process.argv[2] ?? OPENAPI_FILE);
  writeFileSync(target, renderOpenApiDocument());
  process.stdout.write(`wrote ${target}\n`);
}
