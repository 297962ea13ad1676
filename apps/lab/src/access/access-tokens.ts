// Access tokens the running lab accepts (`lab token`, the load's customers, the attacker's own account), signed with
// the key pair `lab up` generated for a state folder.
import { existsSync, readFileSync } from 'node:fs';
import { mintToken as mint, TokenRequestError, type TokenOptions, type TokenSigner } from '@faultline/load';
import type { LabLayout } from '../layout/lab-layout';
import { LabError } from '../process/lab-error';
import { JWT_AUDIENCE, JWT_ISSUER, jwtPrivateKeyFile } from '../topology/lab-services';

export type { TokenOptions };

/** The signer of this state folder's lab; refuses when `lab up` has not generated its key yet. */
export function labTokenSigner(layout: LabLayout): TokenSigner {
  const keyFile = jwtPrivateKeyFile(layout);
  if (!existsSync(keyFile)) throw new LabError('token', `no signing key at ${keyFile}; run \`lab up\` first`);
  return { privateKeyPem: readFileSync(keyFile, 'utf8'), issuer: JWT_ISSUER, audience: JWT_AUDIENCE };
}

/** A token the running lab accepts; a wrong option is a LabError naming it. */
export async function mintToken(layout: LabLayout, options: TokenOptions): Promise<string> {
  const signer = labTokenSigner(layout);
  try {
    return await mint(signer, options);
  } catch (error) {
    if (error instanceof TokenRequestError) throw new LabError('token', error.message);
    throw error;
  }
}
