import { resolveLayout } from '../layout/lab-layout';
import { labServices, parseServiceOverrides } from './lab-services';

describe('lab services', () => {
  it('parses --set overrides per service, later values winning', () => {
    expect(
      parseServiceOverrides([
        'gateway.RECS_FALLBACK=naive',
        'orders.ORDERS_LIST=naive',
        'gateway.RECS_FALLBACK=static',
        'gateway.X=a=b',
      ]),
    ).toEqual({
      gateway: { RECS_FALLBACK: 'static', X: 'a=b' },
      orders: { ORDERS_LIST: 'naive' },
    });
  });

  it.each(['RECS_FALLBACK=naive', 'gateway.recs=naive', 'Gateway.X=1', 'gateway.X'])(
    'refuses the malformed --set %s',
    (value) => {
      expect(() => parseServiceOverrides([value])).toThrow(/is not <service>\.<VARIABLE>=<value>/);
    },
  );

  it('runs every service with dependency-inclusive readiness: `lab up` and `lab status` wait on /readyz for a connected lab', () => {
    const services = labServices(resolveLayout({}, '/repo'), { postgresUrl: () => '', redisUrl: '', kafkaBrokers: [] });
    expect(services.map((s) => [s.name, s.env['READINESS']])).toEqual(services.map((s) => [s.name, 'dependencies']));
  });

  it('keeps every port of every service below the ephemeral range, for every offset the tests use', () => {
    for (const offset of [0, 1000, 2200, 2400, 2600, 2800, 3200, 3400, 3600, 3800, 4000, 4200, 4600, 5000]) {
      const layout = resolveLayout({ LAB_PORT_OFFSET: String(offset) }, '/repo');
      const ports = [
        ...Object.values(layout.ports),
        ...labServices(layout, { postgresUrl: () => '', redisUrl: '', kafkaBrokers: [] }).flatMap((s) => [
          s.httpPort,
          s.grpcPort ?? 0,
        ]),
      ];
      expect({ offset, tooHigh: ports.filter((p) => p >= 32768) }).toEqual({ offset, tooHigh: [] });
      expect(new Set(Object.values(layout.ports)).size).toBe(Object.values(layout.ports).length);
    }
  });
});
