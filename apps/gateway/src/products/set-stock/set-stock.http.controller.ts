import { status as GrpcStatus } from '@grpc/grpc-js';
import { Body, Controller, Param, Put, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { RequireRoles } from '../../auth/route-access';
import { ProblemException } from '../../errors/problem-details';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { validateInput } from '../../http/validate-input';
import { NO_SUCH_PRODUCT } from '../get-product/get-product.http.controller';
import { toProductBody } from '../product.http-mapper';
import { ProductBody, setStockBodySchema, skuParamsSchema } from '../products.http-schema';

/**
 * `PUT /v1/admin/products/{sku}/stock`: an admin sets the absolute stock level. The role is enforced here, not by
 * inventory.
 */
@Controller('v1/admin/products')
@RequireRoles('admin')
export class SetStockHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Put(':sku/stock')
  async setStock(
    @Param() params: Record<string, string>,
    @Body() rawBody: unknown,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProductBody> {
    const parsed = skuParamsSchema.safeParse(params);
    if (!parsed.success) throw new ProblemException('notFound', { detail: NO_SUCH_PRODUCT });
    const body = validateInput(setStockBodySchema, rawBody, 'body');
    const product = await this.grpc.inventory.setStock(
      { sku: parsed.data.sku, available: body.available },
      callContextOf(req, res),
      {
        [GrpcStatus.NOT_FOUND]: NO_SUCH_PRODUCT,
        [GrpcStatus.INVALID_ARGUMENT]: 'The stock level was refused as invalid.',
      },
    );
    return toProductBody(product);
  }
}
