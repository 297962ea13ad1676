import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { livePid, spawnDetached, stopRecorded } from '../process/pid-file';
import { Progress } from '../process/progress';
import { awaitReady, infraStatus } from './component-process';
import { findOnPath } from './find-binary';
import { ComponentStatus, InfraComponent, StartResult } from './infra-component';

const NAME = 'redis';
// Redis with no persistence starts in milliseconds; 30 s only matters on a badly overloaded machine.
const READY_TIMEOUT_MS = 30000;
// Without persistence, SIGTERM shutdown is immediate; the grace covers a slow machine.
const STOP_GRACE_MS = 10000;
// One PING attempt of a readiness probe; short, since the probe is retried.
const CONNECT_TIMEOUT_MS = 1000;

export function redisUrl(layout: LabLayout): string {
  return `redis://127.0.0.1:${layout.ports.redis}`;
}

async function ping(port: number): Promise<boolean> {
  const client = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // A frozen (SIGSTOPped) Redis accepts the TCP connection but never answers: bound the PING too.
    commandTimeout: CONNECT_TIMEOUT_MS,
    // The PING below is the readiness check; ioredis's own (INFO) would only add an unbounded wait.
    enableReadyCheck: false,
    // A probe must fail fast and be retried by the caller, not by ioredis in the background.
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  let connected = false;
  try {
    await client.connect();
    connected = true;
    return (await client.ping()) === 'PONG';
  } finally {
    // Only an open connection needs closing: disconnecting after a refused connect arms a 2 s ioredis timer that
    // nothing clears, which keeps the process (a CLI, Jest) alive for no reason.
    if (connected) client.disconnect();
  }
}

export function createRedis(layout: LabLayout, env: NodeJS.ProcessEnv = process.env): InfraComponent {
  const port = layout.ports.redis;
  const logFile = join(layout.logDir, `${NAME}.log`);
  const pidFile = join(layout.runDir, `${NAME}.pid`);
  const configFile = join(layout.runDir, NAME, 'redis.conf');
  // Redis rewrites its command line into a process title; the template keeps the config path in it, so the marker
  // (checked against /proc/<pid>/cmdline) matches both before and after the rewrite.
  const marker = configFile;
  const probe = () => ping(port);

  function writeConfig(): void {
    const dir = join(layout.dataDir, NAME);
    mkdirSync(dir, { recursive: true });
    mkdirSync(join(layout.runDir, NAME), { recursive: true });
    writeFileSync(
      configFile,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        // Not daemonized: the pid spawnDetached records is Redis's own, and it logs to stdout (our log file).
        'daemonize no',
        'logfile ""',
        // The lab's Redis is a cache: nothing must survive a restart, and no fork for snapshots.
        'save ""',
        'appendonly no',
        `dir ${JSON.stringify(dir)}`,
        'proc-title-template "{title} {listen-addr} {server-mode} {config-file}"',
        '',
      ].join('\n'),
    );
  }

  return {
    name: NAME,
    port,
    logFile,
    async start(progress: Progress): Promise<StartResult> {
      const running = livePid(pidFile);
      if (running) {
        await awaitReady({
          component: NAME,
          pid: running,
          marker,
          logFile,
          description: 'Redis to answer PING',
          timeoutMs: READY_TIMEOUT_MS,
          probe,
        });
        progress.done(NAME, `already running (pid ${running}, port ${port})`);
        return { reused: true, pid: running };
      }
      const binary = env['LAB_REDIS_BIN'] || findOnPath('redis-server', env);
      if (!binary)
        throw new LabError(
          NAME,
          'redis-server not found: install Redis (Debian: apt-get install redis-server) or set LAB_REDIS_BIN',
        );
      writeConfig();
      progress.step(NAME, `starting on 127.0.0.1:${port}`);
      const pid = spawnDetached({ command: binary, args: [configFile], logFile, pidFile, marker, env });
      await awaitReady({
        component: NAME,
        pid,
        marker,
        logFile,
        description: 'Redis to answer PING',
        timeoutMs: READY_TIMEOUT_MS,
        probe,
      });
      progress.done(NAME, `ready (pid ${pid}, port ${port})`);
      return { reused: false, pid };
    },
    async stop(): Promise<void> {
      await stopRecorded(pidFile, marker, STOP_GRACE_MS, 'SIGTERM');
    },
    async status(): Promise<ComponentStatus> {
      return infraStatus({ name: NAME, port, pidFile, logFile, url: redisUrl(layout), probe });
    },
  };
}
