import { Controller, Inject, UseFilters } from '@nestjs/common';
import { GrpcMethod } from '@nestjs/microservices';
import type { DataSource } from 'typeorm';
import { DomainError, GrpcErrorFilter } from '@faultline/bootstrap';
import type { InventoryV1 } from '@faultline/contracts';
import { DATA_SOURCE } from '@faultline/database';
import { MAX_STOCK, productFromRow, productNotFound } from '../../domain/product';

/** Sets a SKU's available stock (admins only: the gateway enforces the role before calling). */
@Controller()
@UseFilters(GrpcErrorFilter)
export class SetStockGrpcController {
  constructor(@Inject(DATA_SOURCE) private readonly dataSource: DataSource) {}

  @GrpcMethod('InventoryService', 'SetStock')
  async handle(request: InventoryV1.SetStockRequest): Promise<InventoryV1.ProductInput> {
    if (!Number.isInteger(request.available) || request.available < 0 || request.available > MAX_STOCK) {
      throw new DomainError('INVALID_ARGUMENT', `available must be 0..${MAX_STOCK}`);
    }
    const [rows] = await this.dataSource.query(
      'UPDATE products SET available = $2, updated_at = now() WHERE sku = $1 RETURNING sku, name, price_cents, available',
      [request.sku, request.available],
    );
    const row = Array.isArray(rows) ? rows[0] : undefined;
    if (!row) throw productNotFound(request.sku);
    return productFromRow(row);
  }
}
