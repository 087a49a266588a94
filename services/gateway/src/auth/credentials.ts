// Reading credentials from a request and resolving API keys. Key lookups are cached for at most half
// a second, so a revoked key or a suspension takes effect within a second on every instance.
import { bearerToken, type Pool, safeEqual, sha256Hex } from '@cruise/shared';
import type { FastifyRequest } from 'fastify';
import { findKeyByHash, type KeyIdentity } from '../domain/partners.ts';

/** `Authorization: Bearer <key>` or `X-API-Key: <key>`. */
export function presentedApiKey(request: FastifyRequest): string | undefined {
  const bearer = bearerToken(request);
  if (bearer) return bearer;
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.trim() !== '' ? header.trim() : undefined;
}

export function isAdminToken(request: FastifyRequest, adminToken: string): boolean {
  const token = bearerToken(request);
  return token !== undefined && safeEqual(token, adminToken);
}

export interface KeyResolver {
  resolve(apiKey: string): Promise<KeyIdentity | undefined>;
}

/** Our keys are ~52 characters; anything far longer is not worth a database round trip. */
const MAX_KEY_LENGTH = 256;

export function createKeyResolver(
  pool: Pool,
  opts: { ttlMs?: number; maxEntries?: number } = {},
): KeyResolver {
  const ttlMs = opts.ttlMs ?? 500;
  const maxEntries = opts.maxEntries ?? 10_000;
  const cache = new Map<string, { readAt: number; identity: KeyIdentity | undefined }>();
  // Concurrent requests with one key share a single lookup.
  const pending = new Map<string, Promise<KeyIdentity | undefined>>();

  return {
    async resolve(apiKey) {
      if (apiKey.length > MAX_KEY_LENGTH) return undefined;
      const hash = sha256Hex(apiKey);
      const cached = cache.get(hash);
      // Age counts from when the lookup started, so staleness never exceeds ttlMs.
      if (cached && performance.now() - cached.readAt < ttlMs) return cached.identity;
      const running = pending.get(hash);
      if (running) return running;
      const readAt = performance.now();
      const lookup = findKeyByHash(pool, hash)
        .then((identity) => {
          if (cache.size >= maxEntries) cache.clear();
          cache.set(hash, { readAt, identity });
          return identity;
        })
        .finally(() => pending.delete(hash));
      pending.set(hash, lookup);
      return lookup;
    },
  };
}
