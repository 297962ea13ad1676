const PEM_BLOCK = /-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g;

/**
 * The public keys of a key file: one PEM block each. During a rotation the file holds the new key and the previous
 * one, so both are accepted (each token names its key by kid); retiring the old key leaves the new one alone.
 */
export function publicKeysIn(text: string, file = 'the key file'): string[] {
  const keys = text.match(PEM_BLOCK) ?? [];
  if (keys.length === 0) throw new Error(`${file} holds no PEM public key (-----BEGIN PUBLIC KEY-----)`);
  return keys.map((k) => `${k}\n`);
}
