// The load phase both runners share (local and kind): the last-item stock set by an admin first (before the run reads
// its starting stock), then the open-model load of the experiment's profile (quick or full) against the target's
// gateway.
import { tokenCommand } from '../commands/token.command';
import type { LabLayout } from '../layout/lab-layout';
import type { Experiment } from './experiment-schema';
import { LoadResult, runLoad } from './load';

export interface StartedLoad {
  rate: number;
  durationS: number;
  /** Resolves with every request's record once the schedule is over and the last answer is in. */
  done: Promise<LoadResult>;
}

/** Sets the last-item stock, through the gateway as an admin, when the mix needs it. `layout` signs the token. */
export async function prepareExperimentLoad(layout: LabLayout, baseUrl: string, experiment: Experiment, options: { facts: Record<string, unknown>; log: (m: string) => void }): Promise<void> {
  const load = experiment.load;
  if (load.mix === 'last-item') {
    const sku = load.sku ?? 'SKU-0050';
    const admin = await tokenCommand(layout, { sub: 'chaos-admin', role: 'admin', tier: 'paid', ttl: '600' });
    const put = await fetch(`${baseUrl}/v1/admin/products/${sku}/stock`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ available: load.stock ?? 1 }),
    });
    if (!put.ok) throw new Error(`could not set the stock of ${sku}: HTTP ${put.status}`);
    options.facts['lastItemSku'] = sku;
    options.log(`stock of ${sku} set to ${load.stock ?? 1}`);
  }
}

/**
 * Starts the load and returns once its schedule has started (`onStart` gets the epoch ms the records' times count
 * from). `layout` signs the tokens (the kind secrets on kind).
 */
export async function startExperimentLoad(
  layout: LabLayout,
  baseUrl: string,
  experiment: Experiment,
  options: { quick: boolean; runId: string; progress: (m: string) => void; onStart: (at: number) => void; signal?: AbortSignal },
): Promise<StartedLoad> {
  const load = experiment.load;
  const rate = (options.quick ? load.quick?.rate : undefined) ?? load.rate;
  const durationS = (options.quick ? load.quick?.durationS : undefined) ?? load.durationS;
  let started!: () => void;
  const startedPromise = new Promise<void>((r) => (started = r));
  const done = runLoad(layout, {
    baseUrl,
    mix: load.mix,
    rate,
    durationS,
    customers: load.customers,
    clientTimeoutMs: load.clientTimeoutMs,
    retries: load.retries,
    retryBackoffMs: load.retryBackoffMs,
    sku: load.sku,
    buyers: load.buyers,
    runId: options.runId,
    signal: options.signal,
    onStart: (at) => {
      options.onStart(at);
      started();
    },
    onProgress: (p) => options.progress(`load +${p.elapsedS}s: ${p.sent} sent, ${p.done} answered, ${p.errors} errors, ${p.inFlight} in flight`),
  });
  // A load that fails before its schedule starts (tokens, seeding) must not leave the caller waiting forever.
  await Promise.race([startedPromise, done.then(() => undefined)]);
  return { rate, durationS, done };
}
