import type { FaultProxyStats } from '@faultline/fault-proxy';
import { proveEdgeFault } from './drivers';

const stats = (s: Partial<FaultProxyStats> = {}): FaultProxyStats => ({
  connectionsAccepted: 0,
  connectionsActive: 0,
  connectionsReset: 0,
  bytesUpstream: 0,
  bytesDownstream: 0,
  heldChunks: 0,
  heldMsTotal: 0,
  ...s,
});

describe('the proof of a proxy fault', () => {
  const latency = { kind: 'latency' as const, ms: 2000 };

  it('holds a latency proven when the services’ chunks were held that long and the probe grew by it', () => {
    const p = proveEdgeFault(latency, {
      before: stats(),
      during: stats({ bytesUpstream: 900, heldChunks: 10, heldMsTotal: 19_800 }),
      baseline: 4,
      observed: 2010,
    });
    expect(p.fired).toBe(true);
  });

  it('does not take a slow machine for the fault: the probe must grow over its own baseline', () => {
    expect(
      proveEdgeFault(latency, {
        before: stats(),
        during: stats({ bytesUpstream: 900, heldChunks: 10, heldMsTotal: 19_800 }),
        baseline: 1500,
        observed: 2010,
      }).fired,
    ).toBe(false);
  });

  it('does not take the probe alone for the fault: the services’ own chunks must have been held', () => {
    const p = proveEdgeFault(latency, {
      before: stats(),
      during: stats({ bytesUpstream: 900, heldChunks: 6, heldMsTotal: 18 }),
      baseline: 4,
      observed: 2010,
    });
    expect(p.fired).toBe(false);
    expect(p.evidence('gateway->recommendations', 'gRPC health check').join(' ')).toContain(
      "NOT proven: the services' traffic was not held by the fault",
    );
  });

  it('holds a reset proven when the services’ connections were reset and the probe failed after answering before', () => {
    const reset = { kind: 'reset' as const };
    expect(
      proveEdgeFault(reset, {
        before: stats(),
        during: stats({ connectionsReset: 3 }),
        baseline: 1,
        observed: Number.NaN,
        probeError: 'Connection terminated unexpectedly',
      }).fired,
    ).toBe(true);
    expect(
      proveEdgeFault(reset, {
        before: stats(),
        during: stats({ connectionsReset: 0 }),
        baseline: 1,
        observed: Number.NaN,
        probeError: 'x',
      }).fired,
    ).toBe(false);
    expect(
      proveEdgeFault(reset, { before: stats(), during: stats({ connectionsReset: 3 }), baseline: 1, observed: 2 })
        .fired,
    ).toBe(false);
  });
});
