import type { InventoryV1 } from '@faultline/contracts';
import type { ProductBody } from './products.http-schema';

export function toProductBody(product: InventoryV1.Product): ProductBody {
  return { sku: product.sku, name: product.name, priceCents: product.priceCents, available: product.available };
}
