// The experiment catalog: every chaos/experiments/<id>/experiment.yaml, parsed and validated.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LabError } from '../process/lab-error';
import { Experiment, experimentSchema } from './experiment-schema';

export const experimentsDir = (root: string) => join(root, 'chaos', 'experiments');

export interface CatalogEntry {
  dir: string;
  experiment: Experiment;
}

export function parseExperiment(file: string): Experiment {
  const result = experimentSchema.safeParse(parse(readFileSync(file, 'utf8')));
  if (!result.success) {
    throw new LabError(
      'chaos',
      `${file} is not a valid experiment:\n${result.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`,
    );
  }
  return result.data;
}

export function loadCatalog(root: string): CatalogEntry[] {
  const dir = experimentsDir(root);
  if (!existsSync(dir)) throw new LabError('chaos', `no experiments folder at ${dir}`);
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .map((id) => {
      const experiment = parseExperiment(join(dir, id, 'experiment.yaml'));
      if (experiment.id !== id) throw new LabError('chaos', `${id}/experiment.yaml says id "${experiment.id}"`);
      return { dir: join(dir, id), experiment };
    });
}

export function findExperiment(root: string, id: string): CatalogEntry {
  const entry = loadCatalog(root).find((e) => e.experiment.id === id);
  if (!entry) throw new LabError('chaos', `unknown experiment "${id}"; \`lab chaos list\` shows them`);
  return entry;
}

export function formatCatalog(entries: CatalogEntry[]): string {
  const rows = entries.map(({ experiment: e }) => [
    e.id,
    e.concept,
    e.fault.local.driver,
    e.expected === 'fail' ? 'FAIL (naive)' : 'pass',
    e.verdict.map((v) => v.check).join(', '),
  ]);
  const header = ['ID', 'CONCEPT', 'LOCAL DRIVER', 'EXPECTED', 'VERDICT CHECKS'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [header, ...rows]
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(Math.min(widths[i], 60)))).join('  '))
    .join('\n');
}
