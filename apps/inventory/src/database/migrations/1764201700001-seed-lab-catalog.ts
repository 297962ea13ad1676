import { MigrationInterface, QueryRunner } from 'typeorm';

/** The lab's catalog: SKU-0001 … SKU-0050, 100 units each, prices from 2.99 to 51.99. */
export class SeedLabCatalog1764201700001 implements MigrationInterface {
  name = 'SeedLabCatalog1764201700001';

  async up(q: QueryRunner): Promise<void> {
    const adjectives = [
      'Sturdy',
      'Quiet',
      'Bright',
      'Compact',
      'Classic',
      'Rapid',
      'Gentle',
      'Bold',
      'Clever',
      'Humble',
    ];
    const nouns = ['Widget', 'Gadget', 'Sprocket', 'Lantern'];
    await q.query(
      `INSERT INTO products (sku, name, price_cents, available)
       SELECT 'SKU-' || lpad(i::text, 4, '0'), ($1::text[])[1 + (i - 1) % 10] || ' ' || ($2::text[])[1 + (i - 1) / 10 % 4] || ' ' || i, 199 + i * 100, 100
         FROM generate_series(1, 50) AS i
       ON CONFLICT (sku) DO NOTHING`,
      [adjectives, nouns],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(
      `DELETE FROM products p WHERE p.sku LIKE 'SKU-%' AND NOT EXISTS (SELECT 1 FROM reservation_items r WHERE r.sku = p.sku)`,
    );
  }
}
