// Tokens the running lab accepts, as the lab's tools ask for them (`lab token`, the load's customers, an admin for a
// run's setup): the options are checked here, the signing is libs/auth's.
import { signAccessToken, type SignOptions } from '@faultline/auth';

/** The key and names the lab's tokens are signed with (the private key `lab up` generated for a state folder). */
export type TokenSigner = Omit<SignOptions, 'ttlSeconds'>;

export interface TokenOptions {
  sub: string;
  role: string;
  tier: string;
  name?: string;
  /** Lifetime in seconds, as typed on a command line. */
  ttl: string;
}

/** A request for a token that cannot be signed as asked; the message says which option is wrong. */
export class TokenRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRequestError';
  }
}

export async function mintToken(signer: TokenSigner, options: TokenOptions): Promise<string> {
  if (!['customer', 'admin'].includes(options.role))
    throw new TokenRequestError(`--role must be customer or admin, got "${options.role}"`);
  if (!['free', 'paid'].includes(options.tier))
    throw new TokenRequestError(`--tier must be free or paid, got "${options.tier}"`);
  const ttlSeconds = Number(options.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 30 * 24 * 3600) {
    throw new TokenRequestError(`--ttl must be a number of seconds from 1 to 2592000, got "${options.ttl}"`);
  }
  try {
    return await signAccessToken(
      {
        sub: options.sub,
        role: options.role as 'customer' | 'admin',
        tier: options.tier as 'free' | 'paid',
        ...(options.name ? { name: options.name } : {}),
      },
      { ...signer, ttlSeconds },
    );
  } catch (error) {
    throw new TokenRequestError(`cannot sign: ${(error as Error).message.split('\n')[0]}`);
  }
}
