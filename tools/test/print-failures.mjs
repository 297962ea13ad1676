#!/usr/bin/env node
// Prints which tests failed, with the head of each failure message, from the Jest results `npm test` wrote. CI calls it
// last, after the lab logs, so that the end of its output (often all a reader gets) names what failed. Usage:
// node tools/test/print-failures.mjs [results.json]   (default: .lab/test-results.json, where `npm test` writes them)
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsFile = process.argv[2] ?? join(root, '.lab', 'test-results.json');
const headLines = 25;

if (!existsSync(resultsFile)) {
  console.log(
    `no Jest results at ${relative(root, resultsFile)}: Jest did not run (lint, typecheck or setup failed; see above)`,
  );
  process.exit(0);
}
const results = JSON.parse(readFileSync(resultsFile, 'utf8'));
// Jest's messages carry terminal colours; a CI log shows them as noise.
const head = (text) => stripVTControlCharacters(text).split('\n').slice(0, headLines).join('\n');
let count = 0;
for (const suite of results.testResults ?? []) {
  const file = relative(root, suite.name);
  const failedTests = (suite.assertionResults ?? []).filter((test) => test.status === 'failed');
  if (failedTests.length === 0 && suite.status === 'failed') {
    // The suite itself failed (a beforeAll, an import): Jest puts that in the suite's message.
    count += 1;
    console.log(`\nFAILED suite ${file}\n${head(suite.message ?? '')}`);
  }
  for (const test of failedTests) {
    count += 1;
    console.log(
      `\nFAILED ${file} › ${test.fullName} (${test.duration ?? '?'} ms)\n${head((test.failureMessages ?? []).join('\n'))}`,
    );
  }
}
console.log(
  `\n${count} failure(s) in ${relative(root, resultsFile)}; ${results.numPassedTests} tests passed, ${results.numFailedTests} failed`,
);
