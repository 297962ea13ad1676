import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The lanes `npm test` runs side by side (lanes.json) are only safe if each lane's suites are isolated from every
// other lane: their own labs (state folder and ports), and no use of the shared test lab that only the main lane has.
const root = join(__dirname, '..', '..');
const { lanes } = JSON.parse(readFileSync(join(__dirname, 'lanes.json'), 'utf8')) as {
  lanes: { name: string; files: string[] }[];
};

/** A test file and every file it imports by relative path, transitively. */
function withLocalImports(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const [, spec] of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
    const base = resolve(dirname(file), spec);
    const target = [`${base}.ts`, join(base, 'index.ts'), base].find((f) => existsSync(f) && statSync(f).isFile());
    if (target && !target.includes(`${join('apps', 'lab', 'src')}`)) withLocalImports(target, seen);
  }
  return seen;
}

/** The literal LAB_STATE_DIR and LAB_PORT_OFFSET values a set of files gives a lab. */
function labsOf(files: Iterable<string>): { stateDirs: string[]; offsets: string[] } {
  const text = [...files].map((f) => readFileSync(f, 'utf8')).join('\n');
  return {
    stateDirs: [...text.matchAll(/LAB_STATE_DIR: '([^']+)'/g)].map((m) => m[1]),
    // `LAB_PORT_OFFSET: '4600'`, `const OFFSET = 3200`, `startSagaLab('.lab/test-saga', 2600)`
    offsets: [...text.matchAll(/(?:LAB_PORT_OFFSET: '|\bOFFSET = |startSagaLab\('[^']+', )(\d+)/g)].map((m) => m[1]),
  };
}

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory())
      return ['node_modules', 'dist', '.lab', '.tools'].includes(entry.name) ? [] : testFiles(path);
    return /\.(int|e2e)-spec\.ts$/.test(entry.name) ? [path] : [];
  });
}

describe('the test lanes (tools/test/lanes.json)', () => {
  const all = ['apps', 'libs', 'k8s', 'tools'].flatMap((d) => testFiles(join(root, d)));

  it('name integration suites that exist, each in one lane only, under unique lane names', () => {
    const files = lanes.flatMap((lane) => lane.files);
    expect(files.filter((f) => !existsSync(join(root, f)))).toEqual([]);
    expect(files.filter((f) => !/\.(int|e2e)-spec\.ts$/.test(f))).toEqual([]);
    expect(new Set(files).size).toBe(files.length);
    const names = lanes.map((lane) => lane.name);
    expect(new Set(names).size).toBe(names.length);
    // `main` (every other file) is the runner's own lane.
    expect(names).not.toContain('main');
  });

  it('never use the shared test lab, which only the main lane starts', () => {
    const users = lanes.flatMap((lane) =>
      lane.files.flatMap((f) =>
        [...withLocalImports(join(root, f))]
          .filter((file) => /FAULTLINE_TEST_|test-lab'/.test(readFileSync(file, 'utf8')))
          .map((file) => `${f} (through ${relative(root, file)})`),
      ),
    );
    expect(users).toEqual([]);
  });

  it('give every lab their suites start a state folder and port offset no other test file uses', () => {
    const laneFiles = new Set(lanes.flatMap((lane) => lane.files.map((f) => join(root, f))));
    const perLane = lanes.map((lane) => ({
      lane: lane.name,
      ...labsOf(new Set(lane.files.flatMap((f) => [...withLocalImports(join(root, f))]))),
    }));
    // A lane whose suites start a lab must say where; the kind runner's scripted tests start none.
    expect(perLane.filter((l) => l.stateDirs.length !== l.offsets.length).map((l) => l.lane)).toEqual([]);
    const inLanes = new Set(lanes.flatMap((lane) => lane.files.flatMap((f) => [...withLocalImports(join(root, f))])));
    const others = labsOf(
      new Set(
        all.filter((f) => !laneFiles.has(f)).flatMap((f) => [...withLocalImports(f)].filter((g) => !inLanes.has(g))),
      ),
    );
    for (const { lane, stateDirs, offsets } of perLane) {
      const elsewhere = perLane.filter((l) => l.lane !== lane);
      for (const dir of stateDirs) {
        expect({
          lane,
          dir,
          clash: [...others.stateDirs, ...elsewhere.flatMap((l) => l.stateDirs)].includes(dir),
        }).toEqual({ lane, dir, clash: false });
      }
      for (const offset of offsets) {
        expect({
          lane,
          offset,
          clash: [...others.offsets, ...elsewhere.flatMap((l) => l.offsets)].includes(offset),
        }).toEqual({ lane, offset, clash: false });
      }
    }
  });
});
