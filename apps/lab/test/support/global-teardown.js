// Stops only what the global setup started: a test lab that was already running is left as it was.
//   FAULTLINE_TEST_KEEP_INFRA=1      keep everything running, so the next run starts in a second
//   FAULTLINE_TEST_STOP_ALL_INFRA=1  stop the whole test lab, also what an earlier run kept
module.exports = async function globalTeardown() {
  const handle = globalThis.__FAULTLINE_TEST_LAB__;
  if (!handle || process.env.FAULTLINE_TEST_KEEP_INFRA === '1') return;
  const { stopTestLab } = require('./test-lab.ts');
  await stopTestLab(process.env.FAULTLINE_TEST_STOP_ALL_INFRA === '1' ? undefined : handle.started);
};
