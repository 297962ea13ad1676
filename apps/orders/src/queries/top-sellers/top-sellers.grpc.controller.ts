import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcErrorFilter } from '@faultline/bootstrap';
import type { OrdersV1 } from '@faultline/contracts';
import { TopSellersQuery } from './top-sellers.query';

@Controller()
@UseFilters(GrpcErrorFilter)
export class TopSellersGrpcController {
  constructor(private readonly query: TopSellersQuery) {}

  @GrpcMethod('OrdersService', 'GetTopSellers')
  async handle(request: OrdersV1.GetTopSellersRequest): Promise<OrdersV1.GetTopSellersResponseInput> {
    return { items: await this.query.top(request.limit) };
  }
}
