import { createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint, exportJWK } from 'jose';

/**
 * A key's id, as tokens name their signing key in the `kid` header: the RFC 7638 thumbprint of its public half.
 * Derived from the key itself, so signer and verifier agree on it without configuring one, and a new key pair gets a
 * new id by construction (which is what lets two keys be accepted side by side during a rotation).
 */
export async function keyId(pem: string): Promise<string> {
  // A private key's PEM gives its public half; a public key's is itself.
  const publicKey = createPublicKey(pem);
  return calculateJwkThumbprint(await exportJWK(publicKey), 'sha256');
}

/** How many characters of a kid name it in metrics and logs: a short fingerprint, unique among a rotation's keys. */
export const KEY_LABEL_LENGTH = 12;

export function keyLabel(kid: string): string {
  return kid.slice(0, KEY_LABEL_LENGTH);
}
