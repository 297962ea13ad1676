import { status as GrpcStatus } from '@grpc/grpc-js';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { Caller, CurrentCaller } from '../../auth/route-access';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { validateInput } from '../../http/validate-input';
import { listOrdersQuerySchema, listOrdersResponseSchema, orderSummarySchema } from '../orders.http-schema';

/** How many SQL queries orders made for this page: the N+1 lab's evidence, visible to any client. */
export const QUERY_COUNT_HEADER = 'X-Query-Count';

/** `GET /v1/orders?limit&cursor`: the caller's orders (an admin's: everyone's), newest first. */
@Controller('v1/orders')
export class ListOrdersHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Get()
  async listOrders(
    @Query() rawQuery: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<z.infer<typeof listOrdersResponseSchema>> {
    const query = validateInput(listOrdersQuerySchema, rawQuery, 'query');
    const page = await this.grpc.orders.listOrders(
      { customerId: caller.customerId, isAdmin: caller.isAdmin, limit: query.limit ?? 0, cursor: query.cursor ?? '' },
      callContextOf(req, res),
      // An unknown or tampered cursor is refused by orders as INVALID_ARGUMENT.
      { [GrpcStatus.INVALID_ARGUMENT]: 'The cursor is not one this API issued, or it expired.' },
    );
    res.setHeader(QUERY_COUNT_HEADER, String(page.queryCount));
    return {
      items: page.items.map((o): z.infer<typeof orderSummarySchema> => ({
        id: o.id,
        customerId: o.customerId,
        customerName: o.customerName,
        status: o.status as z.infer<typeof orderSummarySchema>['status'],
        itemCount: o.itemCount,
        createdAt: o.createdAt,
      })),
      nextCursor: page.nextCursor || null,
    };
  }
}
