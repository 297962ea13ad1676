import { status as GrpcStatus } from '@grpc/grpc-js';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller, CurrentCaller } from '../../auth/route-access';
import { ProblemException } from '../../errors/problem-details';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { toOrderBody } from '../order.http-mapper';
import { OrderBody, orderIdParamsSchema } from '../orders.http-schema';

const NO_SUCH_ORDER = 'No order with this id.';

/** `GET /v1/orders/{id}`: the caller's order (an admin: anyone's); another customer's order is 404, not 403. */
@Controller('v1/orders')
export class GetOrderHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Get(':id')
  async getOrder(
    @Param() params: Record<string, string>,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderBody> {
    const parsed = orderIdParamsSchema.safeParse(params);
    if (!parsed.success) throw new ProblemException('notFound', { detail: NO_SUCH_ORDER });
    const order = await this.grpc.orders.getOrder(
      { orderId: parsed.data.id, customerId: caller.customerId, isAdmin: caller.isAdmin },
      callContextOf(req, res),
      { [GrpcStatus.NOT_FOUND]: NO_SUCH_ORDER },
    );
    return toOrderBody(order);
  }
}
