import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { Caller, CurrentCaller } from '../../auth/route-access';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { validateInput } from '../../http/validate-input';
import {
  listNotificationsQuerySchema,
  listNotificationsResponseSchema,
  notificationSchema,
} from '../notifications.http-schema';

/** How current an eventually consistent read is (the notification feed): see the OpenAPI document. */
export const DATA_AS_OF_HEADER = 'Data-As-Of';

/** `GET /v1/notifications?limit`: the caller's own notifications, newest first (admins too see only their own). */
@Controller('v1/notifications')
export class ListNotificationsHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Get()
  async listNotifications(
    @Query() rawQuery: unknown,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<z.infer<typeof listNotificationsResponseSchema>> {
    const query = validateInput(listNotificationsQuerySchema, rawQuery, 'query');
    const page = await this.grpc.notifications.listNotifications(
      { customerId: caller.customerId, limit: query.limit ?? 0 },
      callContextOf(req, res),
    );
    if (page.asOf) res.setHeader(DATA_AS_OF_HEADER, page.asOf);
    return page.items.map((n): z.infer<typeof notificationSchema> => ({
      id: n.id,
      orderId: n.orderId,
      kind: n.kind as z.infer<typeof notificationSchema>['kind'],
      createdAt: n.createdAt,
    }));
  }
}
