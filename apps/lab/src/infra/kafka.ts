import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { livePid, spawnDetached, stopRecorded, tailFile } from '../process/pid-file';
import { Progress } from '../process/progress';
import { waitFor } from '../process/wait-for';
import { awaitReady, infraStatus } from './component-process';
import { findOnPath, isExecutable } from './find-binary';
import { ComponentStatus, InfraComponent, StartResult } from './infra-component';

const NAME = 'kafka';

/** Must match kafka/kafka-runtime.pom.xml; it names the jar cache folder, so a version change fetches anew. */
export const KAFKA_VERSION = '3.9.1';

/** The topics the lab's services use. Three partitions so ordering-per-key and rebalances are actually exercised. */
export const LAB_TOPICS = ['orders.events', 'inventory.events', 'orders.events.dlq', 'inventory.events.dlq'] as const;
const TOPIC_PARTITIONS = 3;

// JVM start plus the single-node KRaft quorum electing itself takes 10-20 s on a 2-core CI machine; leave margin.
const READY_TIMEOUT_MS = 120000;
// Topic creation and the group coordinator right after readiness can briefly fail while the controller settles.
const TOPICS_TIMEOUT_MS = 30000;
// SIGTERM makes Kafka flush and close its logs cleanly, which takes seconds; past this, SIGKILL (it recovers).
const STOP_GRACE_MS = 20000;
// Maven Central hiccups are common on CI; three tries with a short back-off before giving up.
const MAVEN_ATTEMPTS = 3;
const MAVEN_BACKOFF_MS = 3000;
// A single-node lab broker with a handful of topics fits well in 512 MB; a fixed heap keeps a 2-core, few-GB CI
// machine from swapping and makes memory use predictable across runs.
// -XX:-UsePerfData: no hsperfdata file, and no sampler waking the JVM 20 times a second (jstat is never used here).
const JVM_ARGS = ['-Xms256m', '-Xmx512m', '-XX:-UsePerfData'];
// One request of a readiness probe; short, since the probe is retried.
const PROBE_TIMEOUT_MS = 3000;

const LOG4J_PROPERTIES = `# Written by the lab on every start. Everything goes to stdout, which is the broker's log file.
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
# Per-request and per-partition chatter would drown the lines that explain a failure.
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.kafka.log=WARN
`;

/**
 * A new KRaft cluster id: 16 random bytes in URL-safe base64 without padding (what `kafka-storage random-uuid`
 * prints). Like Kafka's own Uuid.randomUuid it never starts with '-', which the storage tool's argument parser would
 * read as an option (it did, in a fresh CI clone: a 1-in-64 failure).
 */
export function newKafkaClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function kafkaBrokers(layout: LabLayout): string[] {
  return [`127.0.0.1:${layout.ports.kafka}`];
}

/** Where the broker's jars are cached (outside the state dir, so wiping `.lab/` does not download them again). */
export function kafkaLibDir(layout: LabLayout): string {
  return join(layout.cacheDir, `kafka-${KAFKA_VERSION}`, 'lib');
}

function jarCount(dir: string): number {
  return existsSync(dir) ? readdirSync(dir).filter((file) => file.endsWith('.jar')).length : 0;
}

/** Runs a command to completion with its output appended to `logFile`; resolves its exit code. */
function runLogged(command: string, args: string[], logFile: string, env: NodeJS.ProcessEnv): Promise<number> {
  const log = openSync(logFile, 'a');
  return new Promise<number>((resolve) => {
    const child = spawn(command, args, { env, stdio: ['ignore', log, log] });
    child.on('error', () => resolve(-1));
    child.on('exit', (code) => resolve(code ?? -1));
  }).finally(() => closeSync(log));
}

function adminClient(brokers: string[]) {
  return new Kafka({
    clientId: 'faultline-lab',
    brokers,
    // kafkajs logs every refused connection at ERROR level; readiness probes expect refusals, so stay silent.
    logLevel: logLevel.NOTHING,
    connectionTimeout: PROBE_TIMEOUT_MS,
    requestTimeout: PROBE_TIMEOUT_MS,
    retry: { retries: 0 },
  }).admin();
}

async function describeCluster(brokers: string[]): Promise<boolean> {
  const admin = adminClient(brokers);
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function ensureTopics(brokers: string[]): Promise<void> {
  const admin = adminClient(brokers);
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const missing = LAB_TOPICS.filter((topic) => !existing.has(topic));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((topic) => ({ topic, numPartitions: TOPIC_PARTITIONS, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * True once a consumer group can find its coordinator. On a fresh broker `__consumer_offsets` is only created on the
 * first FindCoordinator request, and until it has a leader every consumer's join fails and is retried (kafkajs logs
 * each failure as an ERROR). Asking once here means "ready" includes "consumers can join".
 */
async function groupCoordinatorReady(brokers: string[]): Promise<boolean> {
  const admin = adminClient(brokers);
  try {
    await admin.connect();
    // describeGroups needs the broker pool filled from metadata, which a fresh admin client has not fetched yet.
    await admin.fetchTopicMetadata({ topics: [LAB_TOPICS[0]] });
    await admin.describeGroups(['faultline-lab-readiness']);
    return true;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

function findJava(env: NodeJS.ProcessEnv): string | undefined {
  const javaHome = env['JAVA_HOME'];
  if (javaHome && isExecutable(join(javaHome, 'bin', 'java'))) return join(javaHome, 'bin', 'java');
  return findOnPath('java', env);
}

export function createKafka(layout: LabLayout, env: NodeJS.ProcessEnv = process.env): InfraComponent {
  const port = layout.ports.kafka;
  const brokers = kafkaBrokers(layout);
  const logFile = join(layout.logDir, `${NAME}.log`);
  const pidFile = join(layout.runDir, `${NAME}.pid`);
  const configDir = join(layout.runDir, NAME);
  const serverProperties = join(configDir, 'server.properties');
  const log4jProperties = join(configDir, 'log4j.properties');
  const logDirs = join(layout.dataDir, NAME);
  const clusterIdFile = join(layout.dataDir, 'kafka-cluster-id');
  const libDir = kafkaLibDir(layout);
  const pom = join(layout.root, 'apps/lab/src/infra/kafka/kafka-runtime.pom.xml');
  // The absolute server.properties path is on the java command line and unique to this lab.
  const marker = serverProperties;
  const probe = () => describeCluster(brokers);

  async function ensureJars(progress: Progress): Promise<void> {
    if (jarCount(libDir) > 0) return;
    const mvn = findOnPath('mvn', env);
    if (!mvn)
      throw new LabError(
        NAME,
        `mvn not found: install Maven (Debian: apt-get install maven) to fetch Kafka ${KAFKA_VERSION}'s jars`,
      );
    progress.step(NAME, `fetching Kafka ${KAFKA_VERSION} jars with Maven (first run only)`);
    // Download into a private folder and rename it into place: an interrupted download is never mistaken for a
    // complete one, and two concurrent `lab up` runs do not write into the same folder.
    const partial = `${libDir}.partial-${process.pid}`;
    for (let attempt = 1; attempt <= MAVEN_ATTEMPTS; attempt++) {
      rmSync(partial, { recursive: true, force: true });
      mkdirSync(partial, { recursive: true });
      const args = [
        '-B',
        '-q',
        '-f',
        pom,
        'dependency:copy-dependencies',
        `-DoutputDirectory=${partial}`,
        '-DincludeScope=runtime',
      ];
      const code = await runLogged(mvn, args, logFile, env);
      if (code === 0 && jarCount(partial) > 0) {
        if (jarCount(libDir) > 0) {
          rmSync(partial, { recursive: true, force: true }); // another run finished first
        } else {
          rmSync(libDir, { recursive: true, force: true });
          renameSync(partial, libDir);
        }
        progress.step(NAME, `${jarCount(libDir)} jars in ${libDir}`);
        return;
      }
      if (attempt < MAVEN_ATTEMPTS) {
        progress.step(NAME, `Maven failed (exit ${code}), retrying (${attempt + 1}/${MAVEN_ATTEMPTS})`);
        await new Promise((resolve) => setTimeout(resolve, MAVEN_BACKOFF_MS * attempt));
      }
    }
    rmSync(partial, { recursive: true, force: true });
    throw new LabError(
      NAME,
      `could not fetch Kafka ${KAFKA_VERSION}'s jars with Maven after ${MAVEN_ATTEMPTS} attempts (network? proxy in ~/.m2/settings.xml?):\n${tailFile(logFile)}`,
      logFile,
    );
  }

  function writeConfig(): void {
    mkdirSync(configDir, { recursive: true });
    mkdirSync(logDirs, { recursive: true });
    const controller = layout.ports.kafkaController;
    const settings: Record<string, string | number> = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@127.0.0.1:${controller}`,
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'log.dirs': logDirs,
      // One broker: every internal topic must make do with one replica.
      'offsets.topic.replication.factor': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      'min.insync.replicas': 1,
      // Consumers in tests and experiments join at once; the default 3 s delay only slows every run.
      'group.initial.rebalance.delay.ms': 0,
      'num.partitions': TOPIC_PARTITIONS,
      // A typo in a topic name must fail loudly instead of silently creating a new topic.
      'auto.create.topics.enable': 'false',
      // Threads sized for a 2-core machine (the defaults, 3 network and 8 I/O, are for a server): fewer threads
      // waking up at idle, and no more than the cores can run under load.
      'num.network.threads': 2,
      'num.io.threads': 2,
    };
    const lines = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
    writeFileSync(serverProperties, `# Written by the lab on every start.\n${lines.join('\n')}\n`);
    writeFileSync(log4jProperties, LOG4J_PROPERTIES);
  }

  function clusterId(): string {
    if (existsSync(clusterIdFile)) return readFileSync(clusterIdFile, 'utf8').trim();
    const id = newKafkaClusterId();
    writeFileSync(clusterIdFile, `${id}\n`);
    return id;
  }

  function javaArgs(mainClass: string, args: string[]): string[] {
    return [
      ...JVM_ARGS,
      '-Djava.awt.headless=true',
      `-Dlog4j.configuration=file:${log4jProperties}`,
      '-cp',
      `${libDir}/*`,
      mainClass,
      ...args,
    ];
  }

  async function formatStorage(java: string, progress: Progress): Promise<void> {
    if (existsSync(join(logDirs, 'meta.properties'))) return;
    progress.step(NAME, `formatting storage in ${logDirs}`);
    const code = await runLogged(
      java,
      javaArgs('kafka.tools.StorageTool', ['format', '-t', clusterId(), '-c', serverProperties, '--ignore-formatted']),
      logFile,
      env,
    );
    if (code !== 0)
      throw new LabError(NAME, `formatting the storage failed (exit ${code}):\n${tailFile(logFile)}`, logFile);
  }

  async function ready(pid: number): Promise<void> {
    await awaitReady({
      component: NAME,
      pid,
      marker,
      logFile,
      description: 'Kafka to describe its cluster',
      timeoutMs: READY_TIMEOUT_MS,
      probe,
    });
    try {
      await waitFor(async () => (await ensureTopics(brokers), true), {
        description: "the lab's topics",
        timeoutMs: TOPICS_TIMEOUT_MS,
        intervalMs: 500,
      });
      await waitFor(() => groupCoordinatorReady(brokers), {
        description: 'the group coordinator',
        timeoutMs: TOPICS_TIMEOUT_MS,
        intervalMs: 500,
      });
    } catch (error) {
      throw new LabError(NAME, `started but not usable: ${(error as Error).message}`, logFile);
    }
  }

  return {
    name: NAME,
    port,
    logFile,
    async start(progress: Progress): Promise<StartResult> {
      const running = livePid(pidFile);
      if (running) {
        await ready(running);
        progress.done(NAME, `already running (pid ${running}, port ${port})`);
        return { reused: true, pid: running };
      }
      const java = findJava(env);
      if (!java)
        throw new LabError(
          NAME,
          'java not found: install a JDK 17+ (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME',
        );
      mkdirSync(layout.logDir, { recursive: true });
      await ensureJars(progress);
      writeConfig();
      await formatStorage(java, progress);
      progress.step(NAME, `starting Kafka ${KAFKA_VERSION} (KRaft, single node) on 127.0.0.1:${port}`);
      const pid = spawnDetached({
        command: java,
        args: javaArgs('kafka.Kafka', [serverProperties]),
        logFile,
        pidFile,
        marker,
        env,
      });
      await ready(pid);
      progress.done(NAME, `ready (pid ${pid}, port ${port})`);
      return { reused: false, pid };
    },
    async stop(): Promise<void> {
      await stopRecorded(pidFile, marker, STOP_GRACE_MS, 'SIGTERM');
    },
    async status(): Promise<ComponentStatus> {
      return infraStatus({ name: NAME, port, pidFile, logFile, url: brokers.join(','), probe });
    },
  };
}
