import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { DomainError, GrpcErrorFilter } from '@faultline/bootstrap';
import type { InventoryV1 } from '@faultline/contracts';
import { DATA_SOURCE } from '@faultline/database';
import { productFromRow } from '../../domain/product';

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

/** Products by SKU, cursor-paginated; the cursor is the last SKU of the page, opaque to callers. */
@Controller()
@UseFilters(GrpcErrorFilter)
export class ListProductsGrpcController {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  @GrpcMethod('InventoryService', 'ListProducts')
  async handle(request: InventoryV1.ListProductsRequest): Promise<InventoryV1.ListProductsResponseInput> {
    if (request.limit < 0 || request.limit > MAX_LIMIT)
      throw new DomainError('INVALID_ARGUMENT', `limit must be 1..${MAX_LIMIT}`);
    const limit = request.limit || DEFAULT_LIMIT;
    const after = request.cursor ? Buffer.from(request.cursor, 'base64url').toString('utf8') : '';
    const rows = await this.dataSource.query(
      'SELECT sku, name, price_cents, available FROM products WHERE sku > $1 ORDER BY sku LIMIT $2',
      [after, limit + 1],
    );
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: page.map(productFromRow),
      nextCursor: rows.length > limit && last ? Buffer.from(last.sku).toString('base64url') : '',
    };
  }
}
