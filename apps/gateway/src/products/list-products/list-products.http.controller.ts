import { status as GrpcStatus } from '@grpc/grpc-js';
import { Controller, Get, Query, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { validateInput } from '../../http/validate-input';
import { toProductBody } from '../product.http-mapper';
import { listProductsQuerySchema, listProductsResponseSchema } from '../products.http-schema';

/** `GET /v1/products?limit&cursor`: the catalogue by SKU, with available stock. */
@Controller('v1/products')
export class ListProductsHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Get()
  async listProducts(
    @Query() rawQuery: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<z.infer<typeof listProductsResponseSchema>> {
    const query = validateInput(listProductsQuerySchema, rawQuery, 'query');
    const page = await this.grpc.inventory.listProducts(
      { limit: query.limit ?? 0, cursor: query.cursor ?? '' },
      callContextOf(req, res),
      {
        [GrpcStatus.INVALID_ARGUMENT]: 'The cursor is not one this API issued, or it expired.',
      },
    );
    return { items: page.items.map(toProductBody), nextCursor: page.nextCursor || null };
  }
}
