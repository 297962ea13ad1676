import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcErrorFilter } from '@faultline/bootstrap';
import type { OrdersV1 } from '@faultline/contracts';
import { GetOrderQuery } from './get-order.query';

@Controller()
@UseFilters(GrpcErrorFilter)
export class GetOrderGrpcController {
  constructor(private readonly query: GetOrderQuery) {}

  @GrpcMethod('OrdersService', 'GetOrder')
  handle(request: OrdersV1.GetOrderRequest): Promise<OrdersV1.OrderInput> {
    return this.query.get(request.orderId, request.customerId, request.isAdmin);
  }
}
