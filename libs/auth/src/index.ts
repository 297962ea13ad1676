export { ACCESS_TOKEN_ALGORITHM, accessTokenClaimsSchema, type AccessTokenClaims } from './access-token';
export { generateSigningKeys, type SigningKeys } from './signing-keys';
export { signAccessToken, type SignOptions } from './sign-access-token';
export {
  createTokenVerifier,
  TokenRejectedError,
  type RevocationCheck,
  type TokenVerifier,
  type VerifierOptions,
} from './verify-access-token';
export { keyId, keyLabel, KEY_LABEL_LENGTH } from './key-id';
export {
  REVOKED_TOKENS_KEY,
  RevocationList,
  revokeToken,
  type RevocationListOptions,
  type RevocationRedis,
} from './revocation-list';
export { publicKeysIn } from './public-keys';
