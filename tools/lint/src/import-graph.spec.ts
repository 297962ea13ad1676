import { join } from 'node:path';
import { importCycles, importGraph, sourceFiles } from './import-graph';

const root = join(__dirname, '..', '..', '..');

describe('the import graph', () => {
  const files = sourceFiles(root);
  const graph = importGraph(root, files);

  it('reads the whole tree', () => {
    expect(files.length).toBeGreaterThan(300);
    expect(graph.get('apps/lab/src/chaos/runner.ts')).toContain('apps/lab/src/chaos/verdict.ts');
    // An alias resolves to the lib's entry point, a secondary entry point to its own file.
    expect(graph.get('apps/orders/src/orders.module.ts')).toContain('libs/database/src/index.ts');
    expect(graph.get('libs/outbox/src/outbox.ts')).toContain('libs/database/src/sql.ts');
  });

  it('has no circle, type-only imports included', () => {
    expect(importCycles(graph)).toEqual([]);
  });

  it('has no arrow from the lab engine to its CLI layer: only main.ts imports commands', () => {
    const intoCli = [...graph].flatMap(([from, deps]) =>
      [...deps]
        .filter(
          (to) =>
            /^apps\/lab\/src\/(commands\/|.*\.command\.ts$)/.test(to) &&
            from !== 'apps/lab/src/main.ts' &&
            !/\.command\.ts$/.test(from),
        )
        .map((to) => `${from} → ${to}`),
    );
    expect(intoCli).toEqual([]);
  });

  it('finds a circle when there is one (fixture)', () => {
    const fixture: Record<string, string> = {
      'apps/lab/src/a.ts': "import { b } from './b';",
      'apps/lab/src/b.ts': "import type { C } from './c';",
      'apps/lab/src/c.ts': "export { a } from './a';",
      'apps/lab/src/d.ts': "import { a } from './a';",
    };
    const cycles = importCycles(importGraph(root, Object.keys(fixture), (f) => fixture[f]));
    expect(cycles).toEqual([['apps/lab/src/a.ts', 'apps/lab/src/b.ts', 'apps/lab/src/c.ts']]);
  });
});
