import { queryPath } from './prometheus';

describe('in-cluster Prometheus', () => {
  it('queries through the API server proxy of the prometheus Service, the PromQL URL-encoded', () => {
    expect(queryPath(9090, 'sum(orders_by_status{status="PENDING"})')).toBe(
      '/api/v1/namespaces/faultline/services/prometheus:9090/proxy/api/v1/query?query=sum(orders_by_status%7Bstatus%3D%22PENDING%22%7D)',
    );
  });
});
