import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LabLayout } from '../layout/lab-layout';
import { livePid, spawnDetached, stopRecorded } from '../process/pid-file';
import { Progress } from '../process/progress';
import { awaitReady, infraStatus } from './component-process';
import { findOnPath, isExecutable } from './find-binary';
import { ComponentStatus, InfraComponent, StartResult } from './infra-component';

const NAME = 'prometheus';
const NOT_INSTALLED = 'prometheus not installed (Debian: apt-get install prometheus)';
// Prometheus replays its WAL on start; with the lab's small data that is seconds, a minute covers a slow machine.
const READY_TIMEOUT_MS = 60000;
// Prometheus flushes its head block on SIGTERM; past this it is killed (it replays its WAL next time).
const STOP_GRACE_MS = 20000;
// Experiments watch effects that last seconds; a 5 s scrape is fine-grained enough and cheap for a handful of targets.
const SCRAPE_INTERVAL = '5s';
// One HTTP request of a readiness probe; short, since the probe is retried.
const PROBE_TIMEOUT_MS = 2000;

export interface ScrapeTarget {
  /** The Prometheus job, e.g. the service name. */
  job: string;
  /** host:port serving /metrics. */
  instance: string;
}

export function prometheusUrl(layout: LabLayout): string {
  return `http://127.0.0.1:${layout.ports.prometheus}`;
}

/** The prometheus binary: LAB_PROMETHEUS_BIN, else `prometheus` on the PATH; undefined when not installed. */
export function findPrometheus(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const explicit = env['LAB_PROMETHEUS_BIN'];
  if (explicit) return isExecutable(explicit) ? explicit : undefined;
  return findOnPath('prometheus', env);
}

/** The repo's rule files, the same ones the kind target's ConfigMap holds (k8s/base/prometheus/kustomization.yaml). */
export function prometheusRulesGlob(root: string): string {
  return join(root, 'k8s', 'base', 'prometheus', 'rules', '*.yml');
}

/**
 * prometheus.yml for `targets`, loading `ruleFiles` (globs). Strings are written JSON-quoted, which is valid YAML
 * whatever they contain.
 */
export function prometheusConfig(targets: ScrapeTarget[], ruleFiles: string[] = []): string {
  const q = (value: string) => JSON.stringify(value);
  const jobs = new Map<string, string[]>();
  for (const target of targets) jobs.set(target.job, [...(jobs.get(target.job) ?? []), target.instance]);
  const scrapeConfigs = [...jobs].map(([job, instances]) =>
    [
      `  - job_name: ${q(job)}`,
      `    metrics_path: /metrics`,
      `    static_configs:`,
      `      - targets: [${instances.map(q).join(', ')}]`,
    ].join('\n'),
  );
  return [
    '# Written by the lab on every start.',
    'global:',
    `  scrape_interval: ${SCRAPE_INTERVAL}`,
    `  evaluation_interval: ${SCRAPE_INTERVAL}`,
    // The repo's recording and alerting rules: the same files on both targets.
    ruleFiles.length ? `rule_files: [${ruleFiles.map(q).join(', ')}]` : 'rule_files: []',
    scrapeConfigs.length ? `scrape_configs:\n${scrapeConfigs.join('\n')}` : 'scrape_configs: []',
    '',
  ].join('\n');
}

async function isReady(url: string): Promise<boolean> {
  const response = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  await response.body?.cancel();
  return response.status === 200;
}

/** Optional: without a prometheus binary the lab runs without metrics storage, and says so. */
export function createPrometheus(
  layout: LabLayout,
  targets: ScrapeTarget[],
  env: NodeJS.ProcessEnv = process.env,
): InfraComponent {
  const port = layout.ports.prometheus;
  const url = prometheusUrl(layout);
  const logFile = join(layout.logDir, `${NAME}.log`);
  const pidFile = join(layout.runDir, `${NAME}.pid`);
  const configFile = join(layout.runDir, NAME, 'prometheus.yml');
  const storage = join(layout.dataDir, NAME);
  // The absolute config path is on prometheus's command line and unique to this lab.
  const marker = configFile;
  const probe = () => isReady(url);

  /** Writes the config; true when it changed (a running Prometheus then needs a reload). */
  function writeConfig(): boolean {
    mkdirSync(join(layout.runDir, NAME), { recursive: true });
    mkdirSync(storage, { recursive: true });
    const content = prometheusConfig(targets, [prometheusRulesGlob(layout.root)]);
    let previous: string | undefined;
    try {
      previous = readFileSync(configFile, 'utf8');
    } catch {
      previous = undefined;
    }
    if (previous === content) return false;
    writeFileSync(configFile, content);
    return true;
  }

  return {
    name: NAME,
    port,
    logFile,
    async start(progress: Progress): Promise<StartResult> {
      const running = livePid(pidFile);
      if (running) {
        // The same lab may now have other targets, or the repo other rules: SIGHUP re-reads the config and the rules.
        writeConfig();
        process.kill(running, 'SIGHUP');
        await awaitReady({
          component: NAME,
          pid: running,
          marker,
          logFile,
          description: 'Prometheus /-/ready',
          timeoutMs: READY_TIMEOUT_MS,
          probe,
        });
        progress.done(NAME, `already running (pid ${running}, port ${port})`);
        return { reused: true, pid: running };
      }
      const binary = findPrometheus(env);
      if (!binary) {
        progress.done(NAME, `skipped: ${NOT_INSTALLED}`);
        return { unavailable: NOT_INSTALLED };
      }
      writeConfig();
      progress.step(NAME, `starting on 127.0.0.1:${port}`);
      const args = [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${storage}`,
        `--web.listen-address=127.0.0.1:${port}`,
        // The lab's metrics matter for the experiments of the last days, not longer.
        '--storage.tsdb.retention.time=7d',
      ];
      const pid = spawnDetached({ command: binary, args, logFile, pidFile, marker, env });
      await awaitReady({
        component: NAME,
        pid,
        marker,
        logFile,
        description: 'Prometheus /-/ready',
        timeoutMs: READY_TIMEOUT_MS,
        probe,
      });
      progress.done(NAME, `ready (pid ${pid}, ${url})`);
      return { reused: false, pid };
    },
    async stop(): Promise<void> {
      await stopRecorded(pidFile, marker, STOP_GRACE_MS, 'SIGTERM');
    },
    async status(): Promise<ComponentStatus> {
      const status = await infraStatus({ name: NAME, port, pidFile, logFile, url, probe });
      if (status.state === 'stopped' && !findPrometheus(env))
        return { ...status, state: 'unavailable', detail: NOT_INSTALLED };
      return status;
    },
  };
}
