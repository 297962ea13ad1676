import { status as GrpcStatus } from '@grpc/grpc-js';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ProblemException } from '../../errors/problem-details';
import { GrpcClients } from '../../grpc/grpc-clients';
import { callContextOf } from '../../http/trace-context';
import { toProductBody } from '../product.http-mapper';
import { ProductBody, skuParamsSchema } from '../products.http-schema';

export const NO_SUCH_PRODUCT = 'No product with this SKU.';

/** `GET /v1/products/{sku}`: one product with its available stock, from inventory. */
@Controller('v1/products')
export class GetProductHttpController {
  constructor(private readonly grpc: GrpcClients) {}

  @Get(':sku')
  async getProduct(
    @Param() params: Record<string, string>,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<ProductBody> {
    const parsed = skuParamsSchema.safeParse(params);
    if (!parsed.success) throw new ProblemException('notFound', { detail: NO_SUCH_PRODUCT });
    const product = await this.grpc.inventory.getProduct({ sku: parsed.data.sku }, callContextOf(req, res), {
      [GrpcStatus.NOT_FOUND]: NO_SUCH_PRODUCT,
    });
    return toProductBody(product);
  }
}
