#!/usr/bin/env node
// `npm test` (what `make test` runs), in two phases (tools/test/lanes.json says why): the main lane alone (lint,
// format and typecheck, then every Jest file not in a lane, in band, with the shared test lab), then the chaos lanes
// side by side, each running its files in band on labs of their own. Every line of output is prefixed with its lane.
// Ends with one summary line "N passed, N failed" that CI reads, and exits non-zero on any failure.
//   node tools/test/run-tests.mjs [jest options]   extra options go to every lane's Jest (e.g. -t 'name'); for one
//   file, `npx jest <path>` (a lane's file with FAULTLINE_TEST_SHARED_LAB=off), not a path here
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;
const bin = (pkg, file) => join(root, 'node_modules', pkg, file);
const { lanes } = JSON.parse(readFileSync(join(root, 'tools', 'test', 'lanes.json'), 'utf8'));

/** Runs one command, each output line prefixed with the lane's name; resolves to whether it exited 0. */
function run(lane, label, args, env = {}) {
  console.log(`[${lane}] == ${label} (${elapsed()})`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NX_DAEMON: 'false', ...env },
    });
    for (const stream of [child.stdout, child.stderr])
      createInterface({ input: stream }).on('line', (line) => console.log(`[${lane}] ${line}`));
    child.on('error', (error) => {
      console.log(`[${lane}] ${label}: ${error.message}`);
      resolve(false);
    });
    child.on('close', (code) => {
      console.log(`[${lane}] == ${label}: ${code === 0 ? 'ok' : `FAILED (exit ${code})`} (${elapsed()})`);
      resolve(code === 0);
    });
  });
}

async function staticChecks() {
  const checks = [];
  // @nx/enforce-module-boundaries silently skips itself when no project graph is cached: compute it first.
  checks.push([
    'lint',
    (await run('main', 'project graph (nx)', [bin('nx', 'dist/bin/nx.js'), 'show', 'projects'])) &&
      (await run('main', 'lint (eslint, module boundaries)', [
        bin('eslint', 'bin/eslint.js'),
        '--max-warnings=0',
        '.',
      ])),
  ]);
  checks.push([
    'format',
    await run('main', 'format (prettier --check)', [bin('prettier', 'bin/prettier.cjs'), '--check', '.']),
  ]);
  checks.push([
    'typecheck',
    await run('main', 'typecheck (tsc)', [bin('typescript', 'bin/tsc'), '-p', 'tsconfig.json']),
  ]);
  return checks;
}

const resultsDir = join(root, '.lab', 'test-results');
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });
const extra = process.argv.slice(2);
// --forceExit: a client library's stray timer (kafkajs, ioredis) must not keep CI waiting after the last test; every
// process the tests start is stopped by their own afterAll and the global teardown, which still run.
const jest = (name, selection, env) =>
  run(
    name,
    `jest (${name}, in band)`,
    [
      bin('jest', 'bin/jest.js'),
      '--ci',
      '--runInBand',
      '--forceExit',
      '--json',
      `--outputFile=${join(resultsDir, `${name}.json`)}`,
      ...selection,
      ...extra,
    ],
    env,
  );
const escape = (file) => file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const laneFiles = lanes.flatMap((lane) => lane.files);
const checks = await staticChecks();
await jest('main', ['--testPathIgnorePatterns', ...laneFiles.map((f) => `/${escape(f)}$`)], {});
// A lane's files start labs of their own: the shared test lab is not theirs to start (nor to race another lane for).
await Promise.all(
  lanes.map((lane) =>
    jest(lane.name, ['--selectProjects', 'integration', '--runTestsByPath', ...lane.files], {
      FAULTLINE_TEST_SHARED_LAB: 'off',
    }),
  ),
);

// One results file, as one Jest run would have written it (tools/test/print-failures.mjs reads it).
let passed = 0;
let failed = 0;
let suitesFailed = 0;
const merged = { numPassedTests: 0, numFailedTests: 0, numTotalTests: 0, testResults: [] };
for (const name of ['main', ...lanes.map((lane) => lane.name)]) {
  try {
    const results = JSON.parse(readFileSync(join(resultsDir, `${name}.json`), 'utf8'));
    merged.numPassedTests += results.numPassedTests;
    merged.numFailedTests += results.numFailedTests;
    merged.numTotalTests += results.numTotalTests;
    merged.testResults.push(...results.testResults);
    suitesFailed += results.numFailedTestSuites + (results.numRuntimeErrorTestSuites ?? 0);
    console.log(`lane ${name}: ${results.numPassedTests} passed, ${results.numFailedTests} failed`);
    if (results.numTotalTests === 0) {
      console.error(`lane ${name}: no test ran`);
      failed += 1;
    }
  } catch (error) {
    console.error(`lane ${name}: could not read its Jest results (${error.message})`);
    failed += 1;
  }
}
writeFileSync(join(root, '.lab', 'test-results.json'), JSON.stringify(merged));
passed += merged.numPassedTests;
failed += merged.numFailedTests;
for (const [name, ok] of checks) {
  if (ok) passed += 1;
  else failed += 1;
  console.log(`${name}: ${ok ? 'ok' : 'FAILED'}`);
}
if (suitesFailed > 0) console.log(`${suitesFailed} test suite(s) failed to run or had failures`);
console.log(`\nfinished in ${elapsed()}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && suitesFailed === 0 ? 0 : 1);
