// The house drawn from the imports: every source file of apps/ and libs/ (specs and fixtures aside) and the files it
// imports, type-only imports included, through relative paths and the `@faultline/*` aliases of tsconfig.base.json.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

export type ImportGraph = Map<string, Set<string>>;

const IMPORT = /^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms;

/** The graph of `files` (repository paths), reading each with `read`; imports that leave the repository are dropped. */
export function importGraph(
  root: string,
  files: readonly string[],
  read: (file: string) => string = (f) => readFileSync(join(root, f), 'utf8'),
): ImportGraph {
  const paths = (
    JSON.parse(readFileSync(join(root, 'tsconfig.base.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, string[]> };
    }
  ).compilerOptions.paths;
  const known = new Set(files);
  const resolveImport = (from: string, spec: string): string | undefined => {
    const base = spec.startsWith('.')
      ? resolve(dirname(join(root, from)), spec)
      : paths[spec]
        ? join(root, paths[spec][0]).replace(/\.ts$/, '')
        : undefined;
    if (!base) return undefined;
    return [`${base}.ts`, join(base, 'index.ts')]
      .map((c) => relative(root, c))
      .find((c) => known.has(c) || existsSync(join(root, c)));
  };
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const deps = new Set<string>();
    for (const [, spec] of read(file).matchAll(IMPORT)) {
      const target = resolveImport(file, spec);
      if (target) deps.add(target);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** The repository's source files, as git knows them. */
export function sourceFiles(root: string): string[] {
  const listed = execFileSync(
    'git',
    ['ls-files', '--cached', '--others', '--exclude-standard', 'apps/*/src/**.ts', 'libs/*/src/**.ts'],
    { cwd: root, encoding: 'utf8' },
  );
  return listed
    .split('\n')
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts') && !f.includes('.fixtures.'))
    .filter((f) => existsSync(join(root, f)));
}

/** The import circles: strongly connected components of more than one file, or a file importing itself (Tarjan). */
export function importCycles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const at = (map: Map<string, number>, v: string) => map.get(v) ?? Number.POSITIVE_INFINITY;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(at(low, v), at(low, w)));
      } else if (onStack.has(w)) low.set(v, Math.min(at(low, v), at(index, w)));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}
