// The real `kubectl`, always against the kind cluster's context (`kind-faultline`, named by k8s/kind/cluster.yaml):
// the kind driver never acts on whatever context happens to be current. LAB_KUBECTL replaces the binary (a wrapper,
// another version, or the scripted kubectl of the integration test).
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { findOnPath, isExecutable } from '../../infra/find-binary';
import { KIND_CONTEXT } from '../../kind/kind-plan';
import { kubectlTimeoutMs } from './kind-chaos-plan';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export class Kubectl {
  constructor(
    readonly binary: string,
    private readonly cwd: string,
    private readonly env: NodeJS.ProcessEnv,
    /** How long one call may run before kubectl is killed (kind-chaos-plan.ts: longer for a migration step). */
    readonly timeoutFor: (args: readonly string[]) => number = kubectlTimeoutMs,
  ) {}

  static fromEnv(cwd: string, env: NodeJS.ProcessEnv = process.env): Kubectl {
    return new Kubectl(env['LAB_KUBECTL'] || 'kubectl', cwd, env);
  }

  /** Whether the binary exists (an explicit path, or a name found on PATH). */
  available(): boolean {
    return this.binary.includes('/') ? isExecutable(this.binary) : Boolean(findOnPath(this.binary, this.env));
  }

  /** `input`, when given, is written to kubectl's stdin (for `exec -i`): all at once, or streamed until it ends. */
  run(args: string[], input?: string | Readable): Promise<KubectlResult> {
    const argv = ['--context', KIND_CONTEXT, ...args];
    return new Promise((resolve) => {
      const child = spawn(this.binary, argv, {
        cwd: this.cwd,
        env: this.env,
        stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        timeout: this.timeoutFor(args),
      });
      // A kubectl that exits before reading its stdin must not crash the run with EPIPE: its exit code says enough.
      child.stdin?.on('error', () => undefined);
      if (typeof input === 'string') child.stdin?.end(input);
      else if (input && child.stdin) input.pipe(child.stdin);
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk) => (stdout += chunk));
      child.stderr?.on('data', (chunk) => (stderr += chunk));
      child.on('error', (error) => resolve({ code: 127, stdout, stderr: `${stderr}${error.message}` }));
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    });
  }

  /** A long-lived kubectl (an `exec --stdin` session): the caller owns its stdin and reads its stdout as it comes. */
  spawn(args: string[]): ChildProcessWithoutNullStreams {
    return spawn(this.binary, ['--context', KIND_CONTEXT, ...args], {
      cwd: this.cwd,
      env: this.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  }

  /** Runs and returns stdout; a non-zero exit throws with the command and kubectl's last words. */
  async output(args: string[], input?: string): Promise<string> {
    const r = await this.run(args, input);
    if (r.code !== 0)
      throw new Error(`\`kubectl ${args.join(' ').slice(0, 160)}\` exited with ${r.code}: ${lastLines(r.stderr)}`);
    return r.stdout;
  }
}

export const lastLines = (text: string, n = 3) => text.trim().split('\n').slice(-n).join(' ').slice(0, 400);

/** kubectl's way of saying an object does not exist (exit 1 with `Error from server (NotFound)`). */
export const isNotFound = (r: KubectlResult) => r.code !== 0 && /NotFound|not found/.test(r.stderr);
