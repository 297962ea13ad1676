import { resourceAttributesFromEnv, tracingResource } from './tracing-resource';

describe('the tracing resource', () => {
  it('carries OTEL_RESOURCE_ATTRIBUTES (the pod and namespace on Kubernetes) beside the service name, which wins', () => {
    const resource = tracingResource('orders', {
      OTEL_RESOURCE_ATTRIBUTES: 'k8s.pod.name=orders-7d9f-x2x,k8s.namespace.name=faultline,service.name=other',
    });
    expect(resource.attributes).toEqual({
      'k8s.pod.name': 'orders-7d9f-x2x',
      'k8s.namespace.name': 'faultline',
      'service.name': 'orders',
    });
    expect(tracingResource('orders', {}).attributes).toEqual({ 'service.name': 'orders' });
  });

  it('reads the specification’s format: percent-encoded values, malformed pairs left out', () => {
    expect(resourceAttributesFromEnv(' a=1 , b=x%2Cy,=nokey,novalue,c=%E0%A4%A,d=')).toEqual({
      a: '1',
      b: 'x,y',
      d: '',
    });
    expect(resourceAttributesFromEnv(undefined)).toEqual({});
  });
});
