import type { ComponentStatus } from '../infra/infra';

/** `lab status` for people: one row per component. `--json` prints the same objects as JSON. */
export function formatStatus(components: ComponentStatus[]): string {
  const rows = components.map((c) => [
    c.name,
    c.kind,
    c.state,
    c.healthy ? 'yes' : 'no',
    c.pid ? String(c.pid) : '-',
    c.port ? String(c.port) : '-',
    c.restarts ? String(c.restarts) : c.kind === 'service' ? '0' : '-',
    c.detail ?? c.url ?? '',
  ]);
  const header = ['COMPONENT', 'KIND', 'STATE', 'HEALTHY', 'PID', 'PORT', 'RESTARTS', 'DETAIL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i])))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
