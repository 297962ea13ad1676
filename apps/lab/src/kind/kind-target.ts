import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generateSigningKeys } from '@faultline/auth';
import type { ComponentStatus } from '../infra/infra';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { k8sPort } from './k8s-ports';
import { tailFile } from '../process/pid-file';
import type { Progress } from '../process/progress';
import {
  checkPrerequisites,
  imageTag,
  KIND_CLUSTER,
  kindImageArchive,
  kindSecretsDir,
  KindPaths,
  KindSecrets,
  KindStep,
  planKindDown,
  planKindUp,
  statusCommand,
  statusFromKubectl,
} from './kind-plan';

/**
 * The `kind` run target: a local kind cluster with the images built from docker/, Chaos Mesh, and k8s/overlays/kind.
 * The steps come from kind-plan.ts (pure, unit-tested); this class runs them, logging each command's output to
 * .lab/kind/logs/ and reporting progress.
 */
export class KindTarget {
  private readonly paths: KindPaths;

  constructor(
    private readonly layout: LabLayout,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.paths = { root: layout.root, stateDir: kindStateDir(layout) };
  }

  /** Where `lab token --target kind` finds the private key (same file names as the local target). */
  secretsLayout(): LabLayout {
    return { ...this.layout, secretsDir: kindSecretsDir(this.paths) };
  }

  async up(progress: Progress): Promise<void> {
    checkPrerequisites(this.env);
    const clusterExists = (await this.capture(['kind', 'get', 'clusters'])).split('\n').includes(KIND_CLUSTER);
    const sha = (await this.capture(['git', '-C', this.layout.root, 'rev-parse', '--short', 'HEAD'])).trim();
    const dirty =
      (await this.capture(['git', '-C', this.layout.root, 'status', '--porcelain', '--untracked-files=no'])).trim() !==
      '';
    const tag = imageTag(sha, dirty, Math.floor(Date.now() / 1000));
    const platform = (await this.capture(['docker', 'version', '--format', '{{.Server.Os}}/{{.Server.Arch}}'])).trim();
    if (clusterExists) progress.done('cluster', `kind cluster "${KIND_CLUSTER}" exists, reused`);
    const steps = planKindUp({ ...this.paths, clusterExists, tag, platform, secrets: this.ensureSecrets(progress) });
    mkdirSync(dirname(kindImageArchive(this.paths)), { recursive: true });
    for (const step of steps) await this.execute(step, progress);
  }

  async down(progress: Progress): Promise<void> {
    checkPrerequisites(this.env, ['kind']);
    for (const step of planKindDown()) await this.execute(step, progress);
  }

  async status(): Promise<ComponentStatus[]> {
    checkPrerequisites(this.env, ['kind', 'kubectl']);
    const clusters = (await this.capture(['kind', 'get', 'clusters'])).split('\n');
    if (!clusters.includes(KIND_CLUSTER)) {
      return [
        {
          name: 'cluster',
          kind: 'infra',
          state: 'stopped',
          pid: null,
          port: null,
          healthy: false,
          log: '',
          detail: `no kind cluster "${KIND_CLUSTER}"; run \`lab up --target kind\``,
        },
      ];
    }
    return statusFromKubectl(await this.capture(statusCommand()));
  }

  /**
   * The JWT key pair and the Postgres password: made once and kept, since Postgres' data (on a PVC) keeps the password.
   */
  private ensureSecrets(progress: Progress): KindSecrets {
    const dir = kindSecretsDir(this.paths);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const privateFile = join(dir, 'jwt-private.pem');
    const publicFile = join(dir, 'jwt-public.pem');
    const passwordFile = join(dir, 'postgres-password');
    const relayPasswordFile = join(dir, 'outbox-relay-password');
    if (!existsSync(privateFile) || !existsSync(publicFile)) {
      const keys = generateSigningKeys();
      writeFileSync(privateFile, keys.privateKeyPem, { mode: 0o600 });
      writeFileSync(publicFile, keys.publicKeyPem, { mode: 0o644 });
      progress.done('secrets', `generated the JWT signing key pair in ${dir}`);
    }
    if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    if (!existsSync(relayPasswordFile))
      writeFileSync(relayPasswordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
    return {
      jwtPublicKeyPem: readFileSync(publicFile, 'utf8'),
      postgresPassword: readFileSync(passwordFile, 'utf8').trim(),
      relayPassword: readFileSync(relayPasswordFile, 'utf8').trim(),
      postgresPort: k8sPort(this.layout.root, 'postgres-postgres'),
    };
  }

  private async execute(step: KindStep, progress: Progress): Promise<void> {
    progress.step(step.component, step.description);
    if (step.type === 'write') {
      mkdirSync(dirname(step.file), { recursive: true, mode: 0o700 });
      writeFileSync(step.file, step.content, { mode: step.mode });
      return;
    }
    const log = join(this.paths.stateDir, 'logs', `${step.component.replace(/[^a-z0-9-]+/gi, '-')}.log`);
    const code = await this.run(step.argv, log);
    if (code !== 0)
      throw new LabError(step.component, `\`${step.argv.join(' ')}\` exited with ${code}\n${tailFile(log, 15)}`, log);
    progress.done(step.component, step.description);
  }

  private run(argv: string[], logFile: string): Promise<number> {
    mkdirSync(dirname(logFile), { recursive: true });
    const log = createWriteStream(logFile, { flags: 'a' });
    log.write(`\n$ ${argv.join(' ')}\n`);
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: this.layout.root,
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      child.on('error', reject);
      child.on('close', (code) => log.end(() => resolve(code ?? 1)));
    });
  }

  private capture(argv: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), {
        cwd: this.layout.root,
        env: this.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stderr.on('data', (chunk) => (err += chunk));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0
          ? resolve(out)
          : reject(
              new LabError(
                argv[0],
                `\`${argv.join(' ')}\` exited with ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`,
              ),
            ),
      );
    });
  }
}

export function kindStateDir(layout: LabLayout): string {
  return join(layout.stateDir, 'kind');
}
