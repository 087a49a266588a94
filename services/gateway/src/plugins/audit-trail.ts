// The audit trail of partner, payment, operator, scanner and QR traffic: one row per request,
// recorded after the response and written in batches (see audit/audit-log.ts).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditWriter } from '../audit/audit-log.ts';

const AUDITED_PREFIXES = ['/api/ota/', '/api/admin/', '/api/direct/', '/venue/', '/qr/'];
const AUDITED_PATHS = new Set(['/payments/notify', '/api/ota', '/api/admin', '/api/direct']);

export function isAudited(path: string): boolean {
  return AUDITED_PATHS.has(path) || AUDITED_PREFIXES.some((p) => path.startsWith(p));
}

async function auditTrail(app: FastifyInstance, opts: { writer: AuditWriter }): Promise<void> {
  const { writer } = opts;
  app.addHook('onResponse', async (request, reply) => {
    const path = request.url.split('?', 1)[0]!.slice(0, 2048);
    if (!isAudited(path)) return;
    const durationMs = reply.elapsedTime;
    writer.record({
      at: new Date(Date.now() - durationMs),
      requestId: request.id,
      actorKind: request.access?.actor ?? 'anonymous',
      partnerId: request.access?.partnerId ?? null,
      method: request.method,
      route: request.is404 ? null : (request.routeOptions.url ?? null),
      path,
      status: reply.statusCode,
      durationMs,
      clientIp: request.ip ?? null,
    });
  });
  app.addHook('onClose', async () => {
    await writer.close();
  });
}

export default fp(auditTrail, { name: 'audit-trail', fastify: '5.x', dependencies: ['access-control'] });
