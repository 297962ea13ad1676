import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..', '..');
const script = join(__dirname, 'print-failures.mjs');
const print = (file: string) => execFileSync(process.execPath, [script, file], { encoding: 'utf8' });

describe('print-failures (the last lines of a failed CI run)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'print-failures-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names every failed test and failed suite with the head of its message, without terminal colours', () => {
    const file = join(dir, 'results.json');
    const long = Array.from({ length: 40 }, (_, i) => `    at frame ${i}`).join('\n');
    writeFileSync(
      file,
      JSON.stringify({
        numPassedTests: 3,
        numFailedTests: 1,
        testResults: [
          {
            name: join(root, 'apps/x/test/a.int-spec.ts'),
            status: 'failed',
            message: '',
            assertionResults: [
              { status: 'passed', fullName: 'a passing test' },
              {
                status: 'failed',
                fullName: 'orders lose nothing',
                duration: 1234,
                failureMessages: [`\u001b[31mexpected 0 lost, got 2\u001b[39m\n${long}`],
              },
            ],
          },
          {
            name: join(root, 'apps/x/test/b.int-spec.ts'),
            status: 'failed',
            message: 'beforeAll: lab up failed',
            assertionResults: [],
          },
          {
            name: join(root, 'apps/x/test/c.int-spec.ts'),
            status: 'passed',
            message: '',
            assertionResults: [{ status: 'passed', fullName: 'fine' }],
          },
        ],
      }),
    );
    const out = print(file);
    expect(out).toContain('FAILED apps/x/test/a.int-spec.ts › orders lose nothing (1234 ms)\nexpected 0 lost, got 2\n');
    expect(out).toContain('FAILED suite apps/x/test/b.int-spec.ts\nbeforeAll: lab up failed');
    expect(out).not.toContain('\u001b[');
    expect(out).not.toContain('a passing test');
    expect(out).not.toContain('c.int-spec.ts');
    // The head of a message only: its first 25 lines.
    expect(out).toContain('at frame 23\n');
    expect(out).not.toContain('at frame 24\n');
    expect(out.trimEnd().split('\n').at(-1)).toBe(`2 failure(s) in ${relative(root, file)}; 3 tests passed, 1 failed`);
  });

  it('says Jest did not run when there are no results', () => {
    expect(print(join(dir, 'missing.json'))).toContain('no Jest results at');
  });
});
