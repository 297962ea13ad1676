import { generateKeyPairSync } from 'node:crypto';

export interface SigningKeys {
  privateKeyPem: string;
  publicKeyPem: string;
}

/** A fresh RSA key pair for RS256; 2048 bits is the minimum RFC 7518 §3.3 allows and plenty for a lab. */
export function generateSigningKeys(): SigningKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
