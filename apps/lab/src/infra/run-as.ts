/**
 * Postgres refuses to run as root, and CI runs the lab as root. There, its programs run as the `postgres` system
 * user through `setpriv`, which changes identity and then exec()s: the pid the lab records is Postgres's own.
 * (`runuser` would keep a watching parent: the recorded pid would be runuser's, and runuser turns any signal into
 * SIGTERM followed by SIGKILL after 2 s, which is not how Postgres must be stopped.)
 */
export const POSTGRES_SYSTEM_USER = 'postgres';

export function runningAsRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The command and arguments that run `command` as `user` (unchanged when `user` is undefined). */
export function asUser(user: string | undefined, command: string, args: string[]): [string, string[]] {
  if (!user) return [command, args];
  return ['setpriv', [`--reuid=${user}`, `--regid=${user}`, '--init-groups', '--', command, ...args]];
}
