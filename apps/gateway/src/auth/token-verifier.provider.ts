import { readFileSync } from 'node:fs';
import type { Provider } from '@nestjs/common';
import { createTokenVerifier } from '@faultline/auth';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { TOKEN_VERIFIER } from './jwt-auth.guard';

/**
 * The verifier, built once at start from the public key file, and the previous one during a rotation (a bad key fails
 * the start, not a request). Each token names its key by kid.
 */
export const tokenVerifierProvider: Provider = {
  provide: TOKEN_VERIFIER,
  inject: [GATEWAY_CONFIG],
  useFactory: (config: GatewayConfig) =>
    createTokenVerifier({
      publicKeyPem: readFileSync(config.JWT_PUBLIC_KEY_FILE, 'utf8'),
      alsoAccepted: config.JWT_PREVIOUS_PUBLIC_KEY_FILE ? [readFileSync(config.JWT_PREVIOUS_PUBLIC_KEY_FILE, 'utf8')] : [],
      issuer: config.JWT_ISSUER,
      audience: config.JWT_AUDIENCE,
    }),
};
