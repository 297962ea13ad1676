import { LabLayout, resolveLayout } from '../../src/layout/lab-layout';
import { consoleProgress } from '../../src/process/progress';
import { createInfra, kafkaBrokers, postgresUrl, prometheusUrl, redisUrl } from '../../src/infra/infra';

/**
 * The integration suite's own lab: its own state folder and ports 1000 above the user's lab, so tests never touch
 * a lab the user is working with (nor the machine's own Postgres/Redis on the standard ports).
 */
/** FAULTLINE_TEST_LAB_PORT_OFFSET moves it (ports and state folder together), so two suites can run side by side. */
export const TEST_LAB_PORT_OFFSET = Number(process.env['FAULTLINE_TEST_LAB_PORT_OFFSET'] || 1000);
export const TEST_LAB_STATE_DIR = TEST_LAB_PORT_OFFSET === 1000 ? '.lab/test' : `.lab/test-${TEST_LAB_PORT_OFFSET}`;

export function testLabLayout(): LabLayout {
  return resolveLayout({
    ...process.env,
    LAB_STATE_DIR: TEST_LAB_STATE_DIR,
    LAB_PORT_OFFSET: String(TEST_LAB_PORT_OFFSET),
  });
}

export interface TestLabHandle {
  /** Components this run started (and so must stop); ones found running are left as they were. */
  started: string[];
  /** What the tests get through process.env. */
  env: Record<string, string>;
}

/** Brings up the test lab's infrastructure (reusing whatever already runs) and describes it for the tests. */
export async function startTestLab(): Promise<TestLabHandle> {
  const layout = testLabLayout();
  const progress = consoleProgress();
  const started: string[] = [];
  const env: Record<string, string> = {
    FAULTLINE_TEST_STATE_DIR: layout.stateDir,
    FAULTLINE_TEST_PORT_OFFSET: String(layout.portOffset),
    // No database in the URL: append `/orders` etc.; as is, it connects to the `postgres` database.
    FAULTLINE_TEST_PG_URL: postgresUrl(layout, '').replace(/\/$/, ''),
    FAULTLINE_TEST_REDIS_URL: redisUrl(layout),
    FAULTLINE_TEST_KAFKA_BROKERS: kafkaBrokers(layout).join(','),
  };
  const began = Date.now();
  try {
    for (const component of createInfra(layout, [])) {
      const result = await component.start(progress);
      if ('unavailable' in result) continue;
      if (!result.reused) started.push(component.name);
      if (component.name === 'prometheus') env['FAULTLINE_TEST_PROMETHEUS_URL'] = prometheusUrl(layout);
    }
  } catch (error) {
    // Jest skips the global teardown when the setup fails: stop here what this run started, or it would linger.
    if (process.env['FAULTLINE_TEST_KEEP_INFRA'] !== '1') await stopTestLab(started).catch(() => undefined);
    throw error;
  }
  progress.done(
    'test lab',
    `infrastructure ready in ${((Date.now() - began) / 1000).toFixed(1)}s (started: ${started.join(', ') || 'none, all reused'})`,
  );
  return { started, env };
}

/** Stops the named components (all of them when `names` is undefined), in reverse start order. */
export async function stopTestLab(names?: string[]): Promise<void> {
  const layout = testLabLayout();
  const components = createInfra(layout, []).reverse();
  for (const component of components) {
    if (!names || names.includes(component.name)) await component.stop();
  }
}
