import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { GrpcErrorFilter } from '@faultline/bootstrap';
import type { InventoryV1 } from '@faultline/contracts';
import { DATA_SOURCE } from '@faultline/database';
import { productFromRow, productNotFound } from '../../domain/product';

@Controller()
@UseFilters(GrpcErrorFilter)
export class GetProductGrpcController {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  @GrpcMethod('InventoryService', 'GetProduct')
  async handle(request: InventoryV1.GetProductRequest): Promise<InventoryV1.ProductInput> {
    const [row] = await this.dataSource.query('SELECT sku, name, price_cents, available FROM products WHERE sku = $1', [
      request.sku,
    ]);
    if (!row) throw productNotFound(request.sku);
    return productFromRow(row);
  }
}
