// The load phase both runners share (local and kind): the last-item stock set by an admin first (before the run reads
// its starting stock), then the open-model load of the experiment's profile (quick or full) against the target's
// gateway.
import { mintToken, labTokenSigner } from '../access/access-tokens';
import type { LabLayout } from '../layout/lab-layout';
import type { Experiment } from './experiment-schema';
import { LOAD_SKU_COUNT, LoadResult, loadSku, retryRefused, runLoad } from '@faultline/load';

export interface StartedLoad {
  rate: number;
  durationS: number;
  /** Resolves with every request's record once the schedule is over and the last answer is in. */
  done: Promise<LoadResult>;
}

/** The seeded catalog's units per SKU (inventory's seed migration): what an order mix's SKUs are restocked to. */
export const CATALOG_UNITS = 100;
/** The mixes that buy from the load's SKUs (and the overload burst, which buys like `orders`). */
const BUYING_MIXES = new Set(['orders', 'recommendations-and-orders', 'products-and-orders']);

/**
 * Sets the last-item stock, and restocks the load's SKUs for a buying mix, through the gateway as an admin. `layout`
 * signs the token.
 */
export async function prepareExperimentLoad(
  layout: LabLayout,
  baseUrl: string,
  experiment: Experiment,
  options: { facts: Record<string, unknown>; log: (m: string) => void },
): Promise<void> {
  const load = experiment.load;
  // An admin of its own per run (the rate limiter's buckets are per user, and back-to-back runs must not share one),
  // minted when a stock is first set.
  let admin: Promise<string> | undefined;
  const setStock = async (sku: string, available: number) => {
    const token = await (admin ??= mintToken(layout, {
      sub: `chaos-admin-${Date.now().toString(36)}`,
      role: 'admin',
      tier: 'paid',
      ttl: '600',
    }));
    const put = await retryRefused(() =>
      fetch(`${baseUrl}/v1/admin/products/${sku}/stock`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ available }),
      }),
    );
    if (!put.ok) throw new Error(`could not set the stock of ${sku}: HTTP ${put.status}`);
  };
  if (load.mix === 'last-item') {
    const sku = load.sku ?? 'SKU-0050';
    await setStock(sku, load.stock ?? 1);
    options.facts['lastItemSku'] = sku;
    options.log(`stock of ${sku} set to ${load.stock ?? 1}`);
  }
  if (BUYING_MIXES.has(load.mix) || experiment.fault.local.driver === 'overload') {
    // Runs one after another on one lab (`--all`) would otherwise sell the catalog out, and every later order would
    // be REJECTED: a run whose orders cannot be confirmed says little. The stock the checks start from is read after.
    // Not a precondition: without it the run still judges what happened, its orders perhaps REJECTED for want of stock.
    try {
      for (let i = 0; i < LOAD_SKU_COUNT; i++) await setStock(loadSku(i), CATALOG_UNITS);
      options.log(`restocked the load's ${LOAD_SKU_COUNT} SKUs to ${CATALOG_UNITS} units`);
    } catch (error) {
      options.log(
        `could not restock the load's SKUs (${(error as Error).message}): orders may be REJECTED for want of stock`,
      );
    }
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
  options: {
    quick: boolean;
    runId: string;
    progress: (m: string) => void;
    onStart: (at: number) => void;
    signal?: AbortSignal;
  },
): Promise<StartedLoad> {
  const load = experiment.load;
  const rate = (options.quick ? load.quick?.rate : undefined) ?? load.rate;
  const durationS = (options.quick ? load.quick?.durationS : undefined) ?? load.durationS;
  let started!: () => void;
  const startedPromise = new Promise<void>((r) => (started = r));
  const done = runLoad(labTokenSigner(layout), {
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
    onProgress: (p) =>
      options.progress(
        `load +${p.elapsedS}s: ${p.sent} sent, ${p.done} answered, ${p.errors} errors, ${p.inFlight} in flight`,
      ),
  });
  // A load that fails before its schedule starts (tokens, seeding) must not leave the caller waiting forever.
  await Promise.race([startedPromise, done.then(() => undefined)]);
  return { rate, durationS, done };
}
