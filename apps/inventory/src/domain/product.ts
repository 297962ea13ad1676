import { DomainError } from '@faultline/bootstrap';

export interface Product {
  sku: string;
  name: string;
  priceCents: number;
  available: number;
}

/** The most stock an admin may set for one SKU: bounded so a typo cannot create a warehouse. */
export const MAX_STOCK = 1_000_000;

export const productNotFound = (sku: string) => new DomainError('NOT_FOUND', `product ${sku} not found`);

export function productFromRow(row: { sku: string; name: string; price_cents: number; available: number }): Product {
  return { sku: row.sku, name: row.name, priceCents: row.price_cents, available: row.available };
}
