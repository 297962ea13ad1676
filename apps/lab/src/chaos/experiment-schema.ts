// Schema of chaos/experiments/<id>/experiment.yaml (docs/architecture.md, "Experiments"): what it claims, how it loads
// the lab, which fault it injects on each target, and which verdict checks decide it. `lab chaos list` and `lab chaos
// run` read the files through it; a test validates every file.
import { z } from 'zod';
import { PIPELINE_STAGES } from './history';
import { LOAD_MIXES } from '@faultline/load';

export const STEADY_STATE_PROBES = ['services-ready', 'kafka-reachable', 'recommendations-live'] as const;

const quickLoad = z
  .object({ rate: z.number().positive().optional(), durationS: z.number().positive().optional() })
  .strict();

export const loadSchema = z
  .object({
    mix: z.enum(LOAD_MIXES),
    /** Requests per second started on schedule (open model), whatever the answers' latency. */
    rate: z.number().min(0),
    durationS: z.number().min(0),
    customers: z.number().int().positive(),
    clientTimeoutMs: z.number().int().positive().optional(),
    /** Retries of a timed-out POST with the same Idempotency-Key (double-submit). */
    retries: z.number().int().min(0).max(10).optional(),
    retryBackoffMs: z.number().int().min(0).optional(),
    /**
     * The load ends this many seconds after the fault heals, durationS being only its cap (a migration's length is not
     * known).
     */
    endAfterHealS: z.number().min(0).optional(),
    /** last-item: the SKU, its stock and how many concurrent buyers. */
    sku: z.string().optional(),
    stock: z.number().int().min(0).optional(),
    buyers: z.number().int().positive().optional(),
    quick: quickLoad.optional(),
  })
  .strict();

const timing = {
  atS: z.number().min(0).optional(),
  holdS: z.number().min(0).optional(),
  intervalS: z.number().min(0).optional(),
};
const quickTiming = z.object(timing).strict();

export const EDGES = [
  'gateway->recommendations',
  'gateway->orders',
  'orders->postgres',
  'notifications->postgres',
] as const;

export const localFaultSchema = z.discriminatedUnion('driver', [
  z
    .object({
      driver: z.literal('kill-process'),
      service: z.string(),
      times: z.number().int().positive().default(1),
      /**
       * After the first convergence: `lab reconcile` (PENDING past `graceS` counts as stuck), `lab reconcile --repair`,
       * convergence again, and a second repair that must find nothing (incident-repair).
       */
      repair: z.object({ graceS: z.number().positive() }).strict().optional(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      driver: z.literal('freeze-process'),
      service: z.string(),
      /**
       * Freeze this many seconds BEFORE the load starts (the thaw is still at atS + holdS): a consumer's pending fetch
       * then comes back empty, so its first fetch after the thaw holds everything, every partition at once.
       */
      leadS: z.number().min(0).optional(),
      /**
       * After the first convergence, the operator's step (as kill-process's): for a freeze that loses events (a lost
       * slot).
       */
      repair: z.object({ graceS: z.number().positive() }).strict().optional(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      driver: z.literal('proxy'),
      edge: z.enum(EDGES),
      fault: z
        .object({
          kind: z.enum(['latency', 'blackhole', 'reset', 'loss']),
          ms: z.number().optional(),
          direction: z.enum(['upstream', 'downstream', 'both']).optional(),
          probability: z.number().optional(),
        })
        .strict(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      driver: z.literal('infra-stop'),
      component: z.enum(['postgres', 'redis', 'kafka']),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      driver: z.literal('poison-message'),
      topic: z.string(),
      /**
       * After convergence, the operator's step: `lab dlq replay` of the handler poison with its payload corrected,
       * `times` times.
       */
      replay: z
        .object({ times: z.number().int().min(2) })
        .strict()
        .optional(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      /** A second load, `rate` orders/s for the hold, on top of the experiment's: more than the gateway can take. */
      driver: z.literal('overload'),
      rate: z.number().positive(),
      quickRate: z.number().positive().optional(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      /**
       * The attacker (attack.ts): `rate` attempts/s for the hold, beside the customers' load, then the internal ports
       * tried around the gateway.
       */
      driver: z.literal('attack'),
      rate: z.number().positive(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
  z
    .object({
      /**
       * The orders line_count migration (`lab migrate`): every remaining step (online) or the one-transaction way
       * (naive).
       */
      driver: z.literal('migrate'),
      plan: z.enum(['online', 'naive']),
      /** Archived orders the table holds before the run (topped up in setup): "large enough to matter". */
      archivedOrders: z.number().int().min(0),
      quickArchivedOrders: z.number().int().min(0).optional(),
      lockBudgetMs: z.number().int().positive(),
      ...timing,
      quick: quickTiming.optional(),
    })
    .strict(),
]);
export type LocalFault = z.infer<typeof localFaultSchema>;
export const LOCAL_DRIVERS = localFaultSchema.options.map((o) => o.shape.driver.value);

export const VERDICT_CHECKS = [
  'all-orders-final',
  'one-delivery-per-order',
  'redeliveries-absorbed',
  'stock-conservation',
  'pipeline-history',
  'client-error-ratio',
  'orders-accepted-during-fault',
  'one-order-per-key',
  'replays-flagged',
  'exactly-one-confirmed',
  'p99-during-fault',
  'fallback-served',
  'breaker-opened',
  'orders-db-load-not-amplified',
  'route-policy-during-fault',
  'no-5xx-storm',
  'recovered-after-heal',
  'dlq-received',
  'queries-per-request',
  'trace-no-span-during-open',
  'trace-continues',
  'lock-wait',
  'fast-refusals',
  'admitted-p99',
  'dlq-empty',
  'processing-delay',
  'repair-exact',
  'replay-effect-once',
  'read-your-writes',
  'eventual-read-converges',
  'as-of-honest',
  'wal-retained',
  'alert-fired',
  'slot-recreated',
  'no-unauthorized-read',
  'no-unauthorized-write',
  'refusals-problem-json',
  'internal-ports-closed',
] as const;
export type VerdictCheckName = (typeof VERDICT_CHECKS)[number];

export const verdictCheckSchema = z
  .object({
    check: z.enum(VERDICT_CHECKS),
    route: z.string().optional(),
    max: z.number().optional(),
    maxMs: z.number().optional(),
    dependency: z.string().optional(),
    expect: z.enum(['fail-open', 'fail-closed']).optional(),
    topic: z.string().optional(),
    /** orders-db-load-not-amplified: extra rows the orders database may read per fallback answer. */
    maxRowsPerFallback: z.number().optional(),
    maxQueries: z.number().optional(),
    /** trace-continues: the services every order's one trace must hold a span of. */
    services: z.array(z.string()).min(1).optional(),
    /** breaker-opened: how long the edge must stay silent while requests are answered. */
    minQuietMs: z.number().int().positive().optional(),
    /**
     * dlq-received: the consumer's attempts before a failing handler dead-letters, and how long its partition may wait.
     */
    attempts: z.number().int().positive().optional(),
    maxBlockedMs: z.number().int().positive().optional(),
    /** recovered-after-heal: how long after heal the system may still be recovering (default 3000 ms). */
    graceMs: z.number().int().nonnegative().optional(),
    /**
     * as-of-honest: how much older than its Data-As-Of claims an unapplied outcome may be (clocks, commit vs statement
     * time).
     */
    toleranceMs: z.number().int().nonnegative().optional(),
    /**
     * wal-retained: how much the slot's retained WAL must grow while the relay is away, and where it must be back under
     * after.
     */
    minBytes: z.number().int().positive().optional(),
    maxBytes: z.number().int().positive().optional(),
    /** alert-fired: the alert (k8s/base/prometheus/rules) and the metric it reads (Prometheus must have had it). */
    alert: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9]*$/)
      .optional(),
    metric: z
      .string()
      .regex(/^[a-z_:][a-z0-9_:]*$/)
      .optional(),
    /** pipeline-history: stages this variant does not have (a dual write has no outbox rows). */
    skip: z.array(z.enum(PIPELINE_STAGES)).optional(),
  })
  .strict();
export type VerdictCheckSpec = z.infer<typeof verdictCheckSchema>;

export const experimentSchema = z
  .object({
    id: z.string().regex(/^[a-z][a-z0-9-]*$/),
    question: z.string().min(10),
    concept: z.string().min(3),
    hypothesis: z.string().min(10),
    /**
     * `lab up --set` overrides the experiment needs (a naive variant); the local runner starts extra copies with them.
     * A `postgres` entry is server settings instead (ALTER SYSTEM for the run, reset after, on both targets).
     */
    variant: z.record(z.string(), z.record(z.string(), z.string())).optional(),
    steadyState: z.array(z.enum(STEADY_STATE_PROBES)).min(1),
    load: loadSchema,
    fault: z
      .object({
        local: localFaultSchema,
        kind: z
          .object({
            manifests: z.array(z.string().regex(/^[a-z0-9-]+\.yaml$/)),
            /**
             * A NetworkChaos proven on the services' own path: TCP connects from a pod of `from` (a Deployment) to
             * `to` (`<service>:<port name>`, as the services address it), timed before the fault and during it.
             */
            probe: z
              .object({ from: z.string().regex(/^[a-z0-9-]+$/), to: z.string().regex(/^[a-z0-9-]+:[a-z0-9-]+$/) })
              .strict()
              .optional(),
            /**
             * The k8s/components folder that sets `variant` on kind; the kind runner applies it for the run and
             * restores the overlay after.
             */
            component: z
              .string()
              .regex(/^[a-z0-9-]+$/)
              .optional(),
            /**
             * Why there is no Chaos Mesh object for this fault (a burst of load is not one): required when manifests is
             * empty.
             */
            without: z.string().min(10).optional(),
          })
          .strict()
          .refine((k) => k.manifests.length > 0 || k.without !== undefined, {
            message: 'no manifest: say why in `without`',
          }),
      })
      .strict(),
    heal: z.string().min(3),
    convergence: z
      .object({
        timeoutS: z.number().positive(),
        quick: z.object({ timeoutS: z.number().positive() }).strict().optional(),
      })
      .strict(),
    verdict: z.array(verdictCheckSchema).min(1),
    observe: z
      .object({
        /**
         * Panels to open, each by its dashboard's and its own title in k8s/base/grafana/dashboards (a test resolves
         * them).
         */
        grafana: z.array(z.object({ dashboard: z.string(), panel: z.string(), why: z.string() }).strict()).min(1),
        /**
         * Jaeger searches on kind: a service as the cluster names it (on the local target a variant's copy is
         * `<service>-chaos`, and `lab trace <order-id>` shows one order), an operation (a span name), tags, and why.
         */
        jaeger: z
          .array(
            z
              .object({
                service: z.string(),
                operation: z.string().optional(),
                tags: z.record(z.string(), z.string()).optional(),
                why: z.string(),
              })
              .strict(),
          )
          .min(1),
      })
      .strict(),
    expected: z.enum(['pass', 'fail']),
    /**
     * A naive experiment names the checks its bug must fail (by their names in the report, e.g. `client-error-ratio
     * (POST /v1/orders)`): FAIL (as designed) needs exactly these to fail and every other check to hold.
     */
    mustFail: z.array(z.string()).min(1).optional(),
  })
  .strict()
  .superRefine((e, issue) => {
    const names = e.verdict.map((v) => v.check + (v.route ? ` (${v.route})` : ''));
    // `variant.postgres` holds server settings, set by SQL on both targets (server-settings.ts): no component for
    // those.
    const deployments = Object.keys(e.variant ?? {}).filter((w) => w !== 'postgres');
    if (deployments.length > 0 !== Boolean(e.fault.kind.component))
      issue.addIssue({
        code: 'custom',
        path: ['fault', 'kind', 'component'],
        message:
          'a naive variant of a service names the kustomize component that sets it on kind (fault.kind.component), and only such a variant does',
      });
    if (e.expected === 'fail' && !e.mustFail)
      issue.addIssue({
        code: 'custom',
        path: ['mustFail'],
        message: 'an experiment expected to fail names the checks that must fail',
      });
    if (e.expected === 'pass' && e.mustFail)
      issue.addIssue({
        code: 'custom',
        path: ['mustFail'],
        message: 'an experiment expected to pass has no check that must fail',
      });
    for (const name of e.mustFail ?? [])
      if (!names.includes(name))
        issue.addIssue({
          code: 'custom',
          path: ['mustFail'],
          message: `"${name}" is not one of its verdict checks (${names.join(', ')})`,
        });
  });
export type Experiment = z.infer<typeof experimentSchema>;
