import { status as GrpcStatus } from '@grpc/grpc-js';
import { Body, Controller, Headers, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Caller, CurrentCaller } from '../../auth/route-access';
import { GrpcCallError } from '../../grpc/grpc-call';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { fieldErrors, validationProblem } from '../../http/validate-input';
import { toOrderBody } from '../order.http-mapper';
import { OrderBody, placeOrderBodySchema, placeOrderHeadersSchema } from '../orders.http-schema';
import { requestHash } from './request-hash';

/**
 * `POST /v1/orders`. The gateway validates, hashes the validated body and passes key + hash to orders, which stores
 * the key, the hash and the response in the same transaction as the order: the gateway keeps no idempotency state.
 */
@Controller('v1/orders')
export class PlaceOrderHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Post()
  async placeOrder(
    @Body() rawBody: unknown,
    @Headers('idempotency-key') rawKey: string | undefined,
    @CurrentCaller() caller: Caller,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<OrderBody> {
    const headers = placeOrderHeadersSchema.safeParse({ 'Idempotency-Key': rawKey });
    const body = placeOrderBodySchema.safeParse(rawBody);
    if (!headers.success || !body.success) {
      throw validationProblem([
        ...fieldErrors('header', headers.error?.issues ?? []),
        ...fieldErrors('body', body.error?.issues ?? []),
      ]);
    }

    const response = await this.grpc.orders.placeOrder(
      {
        customerId: caller.customerId,
        customerName: caller.displayName,
        idempotencyKey: headers.data['Idempotency-Key'],
        requestHash: requestHash(body.data),
        items: body.data.items,
      },
      callContextOf(req, res),
      {
        [GrpcStatus.FAILED_PRECONDITION]:
          'This Idempotency-Key was already used with a different request body; use a new key for a new order.',
        [GrpcStatus.ABORTED]:
          'A request with this Idempotency-Key is still being processed; retry shortly with the same key and body.',
        [GrpcStatus.INVALID_ARGUMENT]: 'The order was refused as invalid.',
      },
    );
    if (!response.order)
      throw new GrpcCallError('orders', 'PlaceOrder', GrpcStatus.INTERNAL, 'PlaceOrder returned no order', {});

    const order = toOrderBody(response.order);
    // A replay answers with the status stored with the key (the original 201), so the client cannot tell it apart
    // except by Idempotent-Replayed. A status outside 2xx would be a bug in orders; 201 is what it must have been.
    const stored = response.responseStatus;
    res.status(stored >= 200 && stored < 300 ? stored : 201);
    res.setHeader('Location', `/v1/orders/${order.id}`);
    if (response.replayed) res.setHeader('Idempotent-Replayed', 'true');
    return order;
  }
}
