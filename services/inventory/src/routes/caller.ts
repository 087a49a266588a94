// The calling partner's id as the gateway vouched for it. The id is checked to be a UUID so a malformed
// internal header is refused like a missing one instead of failing in the database.
import { AppError, requirePartner } from '@cruise/shared';
import type { FastifyRequest } from 'fastify';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function callingPartner(request: FastifyRequest): string {
  const partnerId = requirePartner(request);
  if (!UUID_RE.test(partnerId)) throw new AppError('UNAUTHORIZED', 'The partner identity is malformed');
  return partnerId.toLowerCase();
}
