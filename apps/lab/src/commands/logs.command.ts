import { createReadStream, existsSync, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { tailFile } from '../process/pid-file';

/** Prints the last lines of a component's log, and with `follow` keeps printing what is appended. */
export async function logsCommand(
  layout: LabLayout,
  name: string,
  known: string[],
  lines: number,
  follow: boolean,
): Promise<void> {
  if (!known.includes(name)) throw new LabError('logs', `unknown component "${name}"; known: ${known.join(', ')}`);
  const file = join(layout.logDir, `${name}.log`);
  if (!existsSync(file)) throw new LabError('logs', `${name} has no log yet (${file}); has the lab been started?`);
  process.stdout.write(tailFile(file, lines) + '\n');
  if (!follow) return;
  let offset = statSync(file).size;
  await new Promise<void>(() => {
    watch(file, () => {
      const size = statSync(file).size;
      if (size < offset) offset = 0; // truncated
      if (size === offset) return;
      createReadStream(file, { start: offset, end: size - 1 }).pipe(process.stdout, { end: false });
      offset = size;
    });
  });
}
