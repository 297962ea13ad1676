import fc from 'fast-check';
import { canonicalJson, requestHash } from './request-hash';

describe('requestHash', () => {
  it('does not depend on key order, at any depth', () => {
    const a = { items: [{ sku: 'SKU-0001', quantity: 2 }] };
    const b = JSON.parse('{"items":[{"quantity":2,"sku":"SKU-0001"}]}');
    expect(requestHash(a)).toBe(requestHash(b));
    expect(canonicalJson(b)).toBe('{"items":[{"quantity":2,"sku":"SKU-0001"}]}');
  });

  it('is a SHA-256 hex digest', () => {
    expect(requestHash({ items: [] })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('differs for different bodies (quantity, sku, item order, item count)', () => {
    const hashes = [
      { items: [{ sku: 'SKU-0001', quantity: 1 }] },
      { items: [{ sku: 'SKU-0001', quantity: 2 }] },
      { items: [{ sku: 'SKU-0002', quantity: 1 }] },
      {
        items: [
          { sku: 'SKU-0001', quantity: 1 },
          { sku: 'SKU-0002', quantity: 1 },
        ],
      },
      {
        items: [
          { sku: 'SKU-0002', quantity: 1 },
          { sku: 'SKU-0001', quantity: 1 },
        ],
      },
    ].map(requestHash);
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('is invariant under shuffling object keys (property)', () => {
    const item = fc.record({ sku: fc.stringMatching(/^SKU-\d{4}$/), quantity: fc.integer({ min: 1, max: 100 }) });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 20 }), (items) => {
        const reversed = { items: items.map((i) => ({ quantity: i.quantity, sku: i.sku })) };
        expect(requestHash({ items })).toBe(requestHash(reversed));
      }),
      { numRuns: 200 },
    );
  });
});
