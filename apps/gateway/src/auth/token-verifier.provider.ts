import { readFileSync, statSync } from 'node:fs';
import { Inject, Injectable, type OnModuleDestroy, type Provider } from '@nestjs/common';
import Redis from 'ioredis';
import { Counter, Gauge, type Registry } from 'prom-client';
import {
  createTokenVerifier,
  keyId,
  keyLabel,
  KEY_LABEL_LENGTH,
  publicKeysIn,
  RevocationList,
  type RevocationCheck,
  type TokenVerifier,
} from '@faultline/auth';
import { LOGGER, METRICS_REGISTRY, type Logger } from '@faultline/observability';
import { GATEWAY_CONFIG, GatewayConfig } from '../gateway.config';
import { TOKEN_VERIFIER } from './jwt-auth.guard';

/** How often a request may look at the key file for a change (one stat, no read unless it changed). */
const KEY_FILE_CHECK_MS = 1_000;

/** The revoked tokens, from the gateway's own fail-fast Redis client (closed on shutdown). */
@Injectable()
export class Revocations implements RevocationCheck, OnModuleDestroy {
  private readonly redis: Redis;
  private readonly list: RevocationList;

  constructor(
    @Inject(GATEWAY_CONFIG) config: GatewayConfig,
    @Inject(METRICS_REGISTRY) registry: Registry,
    @Inject(LOGGER) logger: Logger,
  ) {
    this.redis = new Redis(config.REDIS_URL, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1_000,
      retryStrategy: (n) => Math.min(n * 100, 1_000),
    });
    this.redis.on('error', () => undefined);
    const failures = new Counter({
      name: 'auth_revocation_read_failures_total',
      help: 'Reads of the revoked tokens that failed or timed out; the check then used its last copy (fails open)',
      registers: [registry],
    });
    this.list = new RevocationList(this.redis, {
      maxAgeMs: config.REVOCATION_MAX_AGE_MS,
      readTimeoutMs: config.REVOCATION_READ_TIMEOUT_MS,
      onReadFailure: (error) => {
        failures.inc();
        logger.warn({ err: error.message }, 'revoked tokens unreadable: checking against the last copy');
      },
    });
  }

  isRevoked(jti: string): Promise<boolean> {
    return this.list.isRevoked(jti);
  }

  onModuleDestroy() {
    this.redis.disconnect();
  }
}

/**
 * The verifier over the key file, built again when the file changes (a rotation adds the new key, retiring removes the
 * old one). A file that does not parse keeps the keys in force and is logged: a bad write must not lock everyone out.
 */
export class ReloadingTokenVerifier implements TokenVerifier {
  private checkedAt = Date.now();

  private constructor(
    private readonly file: string,
    private readonly build: (keys: string[]) => Promise<TokenVerifier>,
    private readonly logger: Logger,
    private inner: TokenVerifier,
    private version: string,
  ) {}

  static async open(
    file: string,
    build: (keys: string[]) => Promise<TokenVerifier>,
    logger: Logger,
  ): Promise<ReloadingTokenVerifier> {
    const version = fileVersion(file);
    return new ReloadingTokenVerifier(
      file,
      build,
      logger,
      await build(publicKeysIn(readFileSync(file, 'utf8'), file)),
      version,
    );
  }

  async verify(token: string) {
    if (Date.now() - this.checkedAt >= KEY_FILE_CHECK_MS) await this.reloadIfChanged();
    return this.inner.verify(token);
  }

  private async reloadIfChanged(): Promise<void> {
    this.checkedAt = Date.now();
    try {
      const version = fileVersion(this.file);
      if (version === this.version) return;
      const keys = publicKeysIn(readFileSync(this.file, 'utf8'), this.file);
      this.inner = await this.build(keys);
      this.version = version;
      this.logger.info({ file: this.file, keys: keys.length }, 'signing keys reloaded');
    } catch (error) {
      this.logger.error(
        { err: (error as Error).message, file: this.file },
        'signing keys unreadable: keeping the keys in force',
      );
    }
  }
}

/** Inode, size and mtime: a rename over the file (how keys are written) or an in-place write both change it. */
function fileVersion(file: string): string {
  const s = statSync(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

export const tokenVerifierProvider: Provider = {
  provide: TOKEN_VERIFIER,
  inject: [GATEWAY_CONFIG, Revocations, LOGGER, METRICS_REGISTRY],
  useFactory: (config: GatewayConfig, revocations: Revocations, logger: Logger, registry: Registry) => {
    // Which keys are in force: `lab keys rotate` and `retire` read it to know the gateway took the change. The label is
    // the kid's first characters (a short fingerprint): a 43-character value reads like a secret on a dashboard.
    const accepted = new Gauge({
      name: 'auth_accepted_keys',
      help: `Signing keys whose tokens the gateway accepts, by the first ${KEY_LABEL_LENGTH} characters of their kid (1 each)`,
      labelNames: ['key'],
      registers: [registry],
    });
    return ReloadingTokenVerifier.open(
      config.JWT_PUBLIC_KEY_FILE,
      async ([publicKeyPem, ...alsoAccepted]) => {
        const verifier = await createTokenVerifier({
          publicKeyPem,
          alsoAccepted,
          issuer: config.JWT_ISSUER,
          audience: config.JWT_AUDIENCE,
          revocations,
        });
        accepted.reset();
        for (const pem of [publicKeyPem, ...alsoAccepted]) accepted.set({ key: keyLabel(await keyId(pem)) }, 1);
        return verifier;
      },
      logger,
    );
  },
};
