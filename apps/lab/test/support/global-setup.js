// Jest runs this file untransformed, but while it runs Jest's require hook applies the project's ts-jest transform
// to everything it requires, so the TypeScript lab code is loaded directly (no build, no ts-node).
// FAULTLINE_TEST_SHARED_LAB=off (a lane of `npm test` whose suites start labs of their own): no shared test lab.
module.exports = async function globalSetup() {
  if (process.env.FAULTLINE_TEST_SHARED_LAB === 'off') return;
  const { startTestLab } = require('./test-lab.ts');
  const handle = await startTestLab();
  // Test workers are forked after this and inherit process.env.
  Object.assign(process.env, handle.env);
  // Global teardown runs in this same process: tell it what this run started.
  globalThis.__FAULTLINE_TEST_LAB__ = handle;
};
