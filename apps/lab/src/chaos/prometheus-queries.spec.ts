import { parseQueryResponse, QUERIES, rangeSince, single, splitRoute } from './prometheus-queries';

describe('Prometheus queries and answers', () => {
  it('reads an instant vector, a scalar, and an empty answer', () => {
    const vector = JSON.stringify({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { group: 'notifications', topic: 'orders.events' }, value: [1795129804.512, '3'] },
          { metric: { group: 'inventory', topic: 'orders.events' }, value: [1795129804.512, '0'] },
        ],
      },
    });
    expect(parseQueryResponse(vector)).toEqual([
      { metric: { group: 'notifications', topic: 'orders.events' }, value: 3 },
      { metric: { group: 'inventory', topic: 'orders.events' }, value: 0 },
    ]);
    expect(single(parseQueryResponse(vector))).toBe(3);
    expect(
      parseQueryResponse(
        JSON.stringify({ status: 'success', data: { resultType: 'scalar', result: [1795129804.5, '0.25'] } }),
      ),
    ).toEqual([{ metric: {}, value: 0.25 }]);
    const empty = parseQueryResponse(JSON.stringify({ status: 'success', data: { resultType: 'vector', result: [] } }));
    expect(single(empty)).toBeUndefined();
    expect(
      Number.isNaN(
        parseQueryResponse(
          JSON.stringify({
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: {}, value: [1, 'NaN'] }] },
          }),
        )[0].value,
      ),
    ).toBe(true);
  });

  it('throws Prometheus’ own error', () => {
    expect(() =>
      parseQueryResponse(
        JSON.stringify({
          status: 'error',
          errorType: 'bad_data',
          error: 'invalid parameter "query": 1:5: parse error',
        }),
      ),
    ).toThrow('Prometheus: bad_data: invalid parameter "query": 1:5: parse error');
    expect(() =>
      parseQueryResponse(JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [] } })),
    ).toThrow('matrix');
  });

  it('ranges cover the run, never less than a minute', () => {
    expect(rangeSince(0, 10_000)).toBe('60s');
    expect(rangeSince(0, 100_000)).toBe('115s');
  });

  it('asks the gateway’s route by its Express template and quotes label values', () => {
    expect(splitRoute('GET /v1/products/:sku')).toEqual({ method: 'GET', path: '/v1/products/:sku' });
    expect(QUERIES.routeErrorRatio('POST /v1/orders', '90s')).toBe(
      'sum(increase(http_server_requests_total{service="gateway",method="POST",route="/v1/orders",status_class="5xx"}[90s])) / sum(increase(http_server_requests_total{service="gateway",method="POST",route="/v1/orders"}[90s]))',
    );
    expect(QUERIES.breakerOpened('rec"s', '60s')).toBe(
      'sum(increase(circuit_breaker_transitions_total{dependency="rec\\"s",to="open"}[60s]))',
    );
  });
});
