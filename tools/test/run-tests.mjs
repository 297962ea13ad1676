#!/usr/bin/env node
// `npm test` (what `make test` runs): lint, typecheck, then every Jest suite in band, because the integration tests
// share one test lab. Ends with one summary line "N passed, N failed" that CI reads, and exits non-zero on any failure.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const run = (label, cmd, args) => {
  console.log(`\n== ${label} (${elapsed()})`);
  const result = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, NX_DAEMON: 'false' } });
  return result.status === 0;
};
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);

const checks = [];
// @nx/enforce-module-boundaries silently skips itself when no project graph is cached: compute it first.
checks.push([
  'lint',
  run('project graph (nx)', process.execPath, [bin('nx', 'dist/bin/nx.js'), 'show', 'projects']) &&
    run('lint (eslint, module boundaries)', process.execPath, [
      bin('eslint', 'bin/eslint.js'),
      '--max-warnings=0',
      '.',
    ]),
]);
checks.push([
  'format',
  run('format (prettier --check)', process.execPath, [bin('prettier', 'bin/prettier.cjs'), '--check', '.']),
]);
checks.push([
  'typecheck',
  run('typecheck (tsc)', process.execPath, [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json']),
]);

const resultsFile = join(root, '.lab', 'test-results.json');
mkdirSync(dirname(resultsFile), { recursive: true });
const extra = process.argv.slice(2);
// --forceExit: a client library's stray timer (kafkajs, ioredis) must not keep CI waiting after the last test; every
// process the tests start is stopped by their own afterAll and the global teardown, which still run.
run('jest (unit + integration, in band)', process.execPath, [
  bin('jest', 'bin/jest.js'),
  '--ci',
  '--runInBand',
  '--forceExit',
  '--json',
  `--outputFile=${resultsFile}`,
  ...extra,
]);

let passed = 0;
let failed = 0;
let suitesFailed = 0;
try {
  const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  passed = results.numPassedTests;
  failed = results.numFailedTests;
  suitesFailed = results.numFailedTestSuites + (results.numRuntimeErrorTestSuites ?? 0);
  if (results.numTotalTests === 0) {
    console.error('no test ran');
    failed += 1;
  }
} catch (error) {
  console.error(`could not read Jest results (${error.message})`);
  failed += 1;
}
for (const [name, ok] of checks) {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${name}: ${ok ? 'ok' : 'FAILED'}`);
}
if (suitesFailed > 0) console.log(`${suitesFailed} test suite(s) failed to run or had failures`);
console.log(`\nfinished in ${elapsed()}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && suitesFailed === 0 ? 0 : 1);
