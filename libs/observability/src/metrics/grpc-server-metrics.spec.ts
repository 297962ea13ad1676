import { lastValueFrom, of, throwError } from 'rxjs';
import type { CallHandler, ExecutionContext } from '@nestjs/common';
import { Registry } from 'prom-client';
import { GrpcMetricsInterceptor, GrpcServerMetrics, grpcCodeName, grpcMethodLabels } from './grpc-server-metrics';

const rpcContext = (path: string) =>
  ({
    getType: () => 'rpc',
    getArgByIndex: (i: number) => (i === 2 ? { getPath: () => path } : undefined),
  }) as unknown as ExecutionContext;

describe('gRPC server metrics', () => {
  it('labels a call by service and method from its path, and anything else as unknown', () => {
    expect(grpcMethodLabels('/faultline.orders.v1.OrdersService/PlaceOrder')).toEqual({
      grpc_service: 'faultline.orders.v1.OrdersService',
      grpc_method: 'PlaceOrder',
    });
    expect(grpcMethodLabels('/v1/orders/123')).toEqual({ grpc_service: 'unknown', grpc_method: 'unknown' });
    expect(grpcMethodLabels(undefined)).toEqual({ grpc_service: 'unknown', grpc_method: 'unknown' });
  });

  it('names status codes, numeric or named, with a fallback for anything else', () => {
    expect(grpcCodeName({ code: 5 })).toBe('NOT_FOUND');
    expect(grpcCodeName({ code: 'FAILED_PRECONDITION' })).toBe('FAILED_PRECONDITION');
    expect(grpcCodeName(new Error('boom'), 'INTERNAL')).toBe('INTERNAL');
  });

  it('counts successes and failures by code, times them, and leaves nothing in flight', async () => {
    const registry = new Registry();
    const interceptor = new GrpcMetricsInterceptor(new GrpcServerMetrics(registry));
    const ok: CallHandler = { handle: () => of({ id: 'x' }) };
    const failing: CallHandler = { handle: () => throwError(() => ({ code: 5 })) };
    await lastValueFrom(interceptor.intercept(rpcContext('/faultline.orders.v1.OrdersService/GetOrder'), ok));
    await expect(
      lastValueFrom(interceptor.intercept(rpcContext('/faultline.orders.v1.OrdersService/GetOrder'), failing)),
    ).rejects.toEqual({ code: 5 });
    const text = await registry.metrics();
    expect(text).toContain(
      'grpc_server_handled_total{grpc_service="faultline.orders.v1.OrdersService",grpc_method="GetOrder",grpc_code="OK"} 1',
    );
    expect(text).toContain(
      'grpc_server_handled_total{grpc_service="faultline.orders.v1.OrdersService",grpc_method="GetOrder",grpc_code="NOT_FOUND"} 1',
    );
    expect(text).toContain(
      'grpc_server_handling_seconds_count{grpc_service="faultline.orders.v1.OrdersService",grpc_method="GetOrder",grpc_code="OK"} 1',
    );
    expect(text).toContain(
      'grpc_server_calls_in_flight{grpc_service="faultline.orders.v1.OrdersService",grpc_method="GetOrder"} 0',
    );
  });

  it('passes HTTP requests through untouched', async () => {
    const registry = new Registry();
    const interceptor = new GrpcMetricsInterceptor(new GrpcServerMetrics(registry));
    const http = { getType: () => 'http' } as unknown as ExecutionContext;
    await lastValueFrom(interceptor.intercept(http, { handle: () => of(1) }));
    expect(await registry.metrics()).not.toContain('grpc_server_handled_total{');
  });
});
