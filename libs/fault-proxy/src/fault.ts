import { z } from 'zod';

/**
 * What the proxy does to the bytes of an edge. Every fault applies to connections already open AND to new ones, the
 * way a network fault does (Chaos Mesh NetworkChaos, netem), unlike an HTTP-level fault that only sees new requests.
 *
 * - `none`: forward as is.
 * - `latency`: hold every chunk `ms` (± up to `jitterMs`) before forwarding it, in the given direction (default
 *   `upstream`, towards the target: a request/response round trip grows by ~`ms`; `both` adds ~2×`ms`). Order is
 *   kept: a chunk never overtakes an earlier one.
 * - `blackhole`: accept connections but forward nothing and stop reading (TCP flow control then stalls the sender),
 *   never closing anything: the peer sees a dependency that hangs, like a frozen process or a dropped route. Held
 *   bytes are delivered once the fault is lifted (as TCP retransmission would), so streams are never corrupted.
 * - `reset`: RST every open connection and every new one at once: the peer fails fast (ECONNRESET).
 * - `loss`: TCP never loses bytes, it retransmits them; packet loss shows up as delay. Each chunk is, with
 *   `probability`, held one retransmission timeout (`retransmitMs`, default 200 ms, Linux's minimum RTO), doubled
 *   for each further consecutive loss (exponential RTO back-off), in both directions.
 */
export const faultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  z
    .object({
      kind: z.literal('latency'),
      ms: z.number().int().min(0).max(600_000),
      jitterMs: z.number().int().min(0).max(600_000).optional(),
      direction: z.enum(['upstream', 'downstream', 'both']).optional(),
    })
    .strict(),
  z.object({ kind: z.literal('blackhole') }).strict(),
  z.object({ kind: z.literal('reset') }).strict(),
  z
    .object({
      kind: z.literal('loss'),
      probability: z.number().min(0).max(1),
      retransmitMs: z.number().int().min(1).max(60_000).optional(),
    })
    .strict(),
]);
export type Fault = z.infer<typeof faultSchema>;

/** A chunk moving towards the target (`upstream`) or back to the client (`downstream`). */
export type FlowDirection = 'upstream' | 'downstream';

export const DEFAULT_RETRANSMIT_MS = 200;
/** A chunk is never held for more than this many consecutive losses (RTO back-off stops growing). */
const MAX_CONSECUTIVE_LOSSES = 6;

/**
 * How long a chunk read now, in this direction, must be held under this fault before it may be forwarded
 * (Infinity: held until the fault changes). Pure, so the scheduling arithmetic is unit-tested without sockets.
 */
export function holdMs(fault: Fault, direction: FlowDirection, random: () => number = Math.random): number {
  switch (fault.kind) {
    case 'none':
    case 'reset':
      return 0;
    case 'blackhole':
      return Number.POSITIVE_INFINITY;
    case 'latency': {
      const applies = (fault.direction ?? 'upstream') === 'both' || (fault.direction ?? 'upstream') === direction;
      if (!applies) return 0;
      const jitter = fault.jitterMs ? (random() * 2 - 1) * fault.jitterMs : 0;
      return Math.max(0, fault.ms + jitter);
    }
    case 'loss': {
      const rto = fault.retransmitMs ?? DEFAULT_RETRANSMIT_MS;
      let held = 0;
      for (let losses = 0; losses < MAX_CONSECUTIVE_LOSSES && random() < fault.probability; losses++)
        held += rto * 2 ** losses;
      return held;
    }
  }
}
