// Access tokens the running lab accepts (`lab token`, the load's customers, the attacker's own account).
import { existsSync, readFileSync } from 'node:fs';
import { signAccessToken } from '@faultline/auth';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { JWT_AUDIENCE, JWT_ISSUER, jwtPrivateKeyFile } from '../topology/lab-services';

export interface TokenOptions {
  sub: string;
  role: string;
  tier: string;
  name?: string;
  ttl: string;
}

/** A token the running lab accepts: signed with the key pair `lab up` generated for this state folder. */
export async function mintToken(layout: LabLayout, options: TokenOptions): Promise<string> {
  const keyFile = jwtPrivateKeyFile(layout);
  if (!existsSync(keyFile)) throw new LabError('token', `no signing key at ${keyFile}; run \`lab up\` first`);
  if (!['customer', 'admin'].includes(options.role)) throw new LabError('token', `--role must be customer or admin, got "${options.role}"`);
  if (!['free', 'paid'].includes(options.tier)) throw new LabError('token', `--tier must be free or paid, got "${options.tier}"`);
  const ttlSeconds = Number(options.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 30 * 24 * 3600) {
    throw new LabError('token', `--ttl must be a number of seconds from 1 to 2592000, got "${options.ttl}"`);
  }
  try {
    return await signAccessToken(
      { sub: options.sub, role: options.role as 'customer' | 'admin', tier: options.tier as 'free' | 'paid', ...(options.name ? { name: options.name } : {}) },
      { privateKeyPem: readFileSync(keyFile, 'utf8'), issuer: JWT_ISSUER, audience: JWT_AUDIENCE, ttlSeconds },
    );
  } catch (error) {
    throw new LabError('token', `cannot sign: ${(error as Error).message.split('\n')[0]}`);
  }
}
