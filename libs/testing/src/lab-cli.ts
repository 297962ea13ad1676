import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
const run = promisify(execFile);
export const repoRoot = join(__dirname, '..', '..', '..');
const CLI_TIMEOUT_MS = 570_000;

/** One component of `lab status --json` (the CLI's ComponentStatus, as JSON). */
export interface LabComponent {
  name: string;
  kind: 'infra' | 'service' | 'supervisor';
  state: 'running' | 'stopped' | 'starting' | 'unhealthy' | 'unavailable';
  pid: number | null;
  port: number | null;
  healthy: boolean;
  detail?: string;
  log: string;
  url?: string;
  restarts?: number;
}

/** Runs the real `lab` CLI (apps/lab/bin/lab.js, as `npx lab` does) against the given state folder and ports. */
export function labCli(env: Record<string, string>) {
  const exec = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'apps/lab/bin/lab.js'), ...args], {
        cwd: repoRoot,
        env: { ...process.env, ...env },
        // Under the 600 s of the longest test that runs one (a quick experiment through the kind runner).
        timeout: CLI_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string; killed?: boolean; signal?: string };
      const killed =
        e.killed && e.signal
          ? `\n[lab ${args.join(' ')}: killed (${e.signal}) after ${CLI_TIMEOUT_MS / 1000} s, the test helper's timeout]\n`
          : '';
      return {
        code: typeof e.code === 'number' ? e.code : 1,
        stdout: e.stdout ?? '',
        stderr: (e.stderr ?? '') + killed,
      };
    }
  };
  return {
    exec,
    async status(): Promise<LabComponent[]> {
      const result = await exec('status', '--json');
      if (result.code !== 0) throw new Error(`lab status failed: ${result.stderr}`);
      return (JSON.parse(result.stdout) as { components: LabComponent[] }).components;
    },
  };
}

/** Pids of live processes whose environment says they belong to the lab with this state folder (any spelling). */
export function processesOfLab(...stateDirs: string[]): number[] {
  const markers = stateDirs.map((dir) => `LAB_STATE_DIR=${dir}`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue;
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (markers.some((m) => environ.includes(m))) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
