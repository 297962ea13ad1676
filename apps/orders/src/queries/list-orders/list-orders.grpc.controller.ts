import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcErrorFilter } from '@faultline/bootstrap';
import type { OrdersV1 } from '@faultline/contracts';
import { ListOrdersQuery } from './list-orders.query';

@Controller()
@UseFilters(GrpcErrorFilter)
export class ListOrdersGrpcController {
  constructor(private readonly query: ListOrdersQuery) {}

  @GrpcMethod('OrdersService', 'ListOrders')
  handle(request: OrdersV1.ListOrdersRequest): Promise<OrdersV1.ListOrdersResponseInput> {
    return this.query.list(request.customerId, request.isAdmin, request.limit, request.cursor);
  }
}
