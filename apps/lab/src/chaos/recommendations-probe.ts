// The `recommendations-live` steady-state probe both runners share (local and kind): the gateway answers live
// recommendations, after a few confirmed orders give a fresh lab something to rank.
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken } from '../access/access-tokens';
import type { LabLayout } from '../layout/lab-layout';

/** `layout` signs the probe's token (the kind secrets on kind); `gatewayUrl` is the target's gateway. */
export async function recommendationsLive(
  layout: LabLayout,
  gatewayUrl: string,
): Promise<{ probe: string; ok: boolean; detail: string }> {
  const token = await mintToken(layout, { sub: 'chaos-probe', role: 'customer', tier: 'paid', ttl: '600' });
  const live = async () => {
    const r = await fetch(`${gatewayUrl}/v1/recommendations?limit=5`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const body = (await r.json().catch(() => ({}))) as { source?: string; items?: unknown[] };
    return r.ok && body.source === 'live' && (body.items?.length ?? 0) > 0;
  };
  if (!(await live())) {
    // A fresh lab has no popularity yet: confirmed orders give recommendations something to rank.
    for (let i = 0; i < 3; i++) {
      await fetch(`${gatewayUrl}/v1/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': `probe-${Date.now()}-${i}`,
        },
        body: JSON.stringify({ items: [{ sku: 'SKU-0042', quantity: 1 }] }),
      });
    }
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(await live())) await sleep(500);
  }
  const ok = await live();
  return {
    probe: 'recommendations-live',
    ok,
    detail: ok ? 'GET /v1/recommendations answers source "live"' : 'GET /v1/recommendations does not answer live items',
  };
}
