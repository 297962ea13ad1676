import { Controller, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import { GrpcErrorFilter } from '@faultline/bootstrap';
import type { OrdersV1 } from '@faultline/contracts';
import { PlaceOrderService } from './place-order.service';

@Controller()
@UseFilters(GrpcErrorFilter)
export class PlaceOrderGrpcController {
  constructor(private readonly placeOrder: PlaceOrderService) {}

  @GrpcMethod('OrdersService', 'PlaceOrder')
  async handle(request: OrdersV1.PlaceOrderRequest): Promise<OrdersV1.PlaceOrderResponseInput> {
    const result = await this.placeOrder.place({
      customerId: request.customerId,
      customerName: request.customerName,
      idempotencyKey: request.idempotencyKey,
      requestHash: request.requestHash,
      items: request.items.map((i) => ({ sku: i.sku, quantity: i.quantity })),
    });
    return { order: result.order, replayed: result.replayed, responseStatus: result.responseStatus };
  }
}
