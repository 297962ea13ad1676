// A file's name says the role of what it holds: a controller is found by its kind of transport, and a `*.service.ts`
// holds no controller.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sourceFiles } from './import-graph';

const root = join(__dirname, '..', '..', '..');

const ROLES: { suffix: RegExp; file: string }[] = [
  { suffix: /MessageController$/, file: '.message.controller.ts' },
  { suffix: /GrpcController$/, file: '.grpc.controller.ts' },
  { suffix: /HttpController$/, file: '.http.controller.ts' },
];

/** The misplaced classes of `files`: "<file>: <class> belongs in a *<suffix> file". */
export function misnamed(files: Record<string, string>): string[] {
  return Object.entries(files).flatMap(([file, text]) =>
    [...text.matchAll(/^export class (\w+)/gm)].flatMap(([, name]) => {
      const role = ROLES.find((r) => r.suffix.test(name));
      return role && !file.endsWith(role.file) ? [`${file}: ${name} belongs in a *${role.file} file`] : [];
    }),
  );
}

describe('role names', () => {
  it('every controller of apps/ is in a file named for its transport', () => {
    const files = Object.fromEntries(
      sourceFiles(root)
        .filter((f) => f.startsWith('apps/'))
        .map((f) => [f, readFileSync(join(root, f), 'utf8')]),
    );
    expect(Object.keys(files).length).toBeGreaterThan(100);
    expect(misnamed(files)).toEqual([]);
  });

  it('names a consumer kept in a *.service.ts (fixture)', () => {
    expect(
      misnamed({ 'apps/x/src/x.service.ts': 'export class OrderPaidMessageController {}\nexport class XService {}' }),
    ).toEqual(['apps/x/src/x.service.ts: OrderPaidMessageController belongs in a *.message.controller.ts file']);
  });
});
