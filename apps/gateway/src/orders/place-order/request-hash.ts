import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted at every level, no whitespace: two bodies that mean the same thing (keys in another
 * order, other spacing) serialise identically. Array order is meaning (items are a list), so it is kept.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * The request hash orders stores with an idempotency key: SHA-256 (hex) of the canonical JSON of the VALIDATED body,
 * so a retry is recognised however the client formats it, and a different body under the same key is a conflict.
 */
export function requestHash(validatedBody: unknown): string {
  return createHash('sha256').update(canonicalJson(validatedBody)).digest('hex');
}
