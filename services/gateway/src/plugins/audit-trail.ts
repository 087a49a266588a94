// The audit trail of partner, payment, operator, scanner and QR traffic: one row per request,
// recorded after the response and written in batches (see audit/audit-log.ts). Paths are written with
// ticket codes as their hash (`loggablePath`).
import { loggablePath } from '@cruise/shared';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AuditWriter } from '../audit/audit-log.ts';

const CLIENT_CLOSED_REQUEST = 499;
const AUDITED_PREFIXES = ['/api/ota/', '/api/admin/', '/api/direct/', '/venue/', '/qr/', '/octo/'];
const AUDITED_PATHS = new Set(['/payments/notify', '/api/ota', '/api/admin', '/api/direct', '/octo']);

export function isAudited(path: string): boolean {
  return AUDITED_PATHS.has(path) || AUDITED_PREFIXES.some((p) => path.startsWith(p));
}

declare module 'fastify' {
  interface FastifyRequest {
    /** performance.now() at the request's arrival (for the duration of an abandoned request). */
    auditStartedAt: number;
    auditRecorded: boolean;
  }
}

async function auditTrail(app: FastifyInstance, opts: { writer: AuditWriter }): Promise<void> {
  const { writer } = opts;
  // Fields of the request rather than weak maps keyed by it: cheaper per request, nothing for the GC.
  app.decorateRequest('auditStartedAt', 0);
  app.decorateRequest('auditRecorded', false);
  // Registered before access control, so this is the request's arrival, before any lookup.
  app.addHook('onRequest', async (request) => {
    request.auditStartedAt = performance.now();
  });
  // Each request is recorded once: when its response finished, or when the client gave up first.
  const record = (request: FastifyRequest, status: number, durationMs: number) => {
    if (request.auditRecorded) return;
    if (!isAudited(request.url.split('?', 1)[0]!)) return;
    request.auditRecorded = true;
    writer.record({
      at: new Date(Date.now() - durationMs),
      requestId: request.id,
      actorKind: request.access?.actor ?? 'anonymous',
      partnerId: request.access?.partnerId ?? null,
      method: request.method,
      route: request.is404 ? null : (request.routeOptions.url ?? null),
      // Never the ticket code itself: it is the bearer secret of /qr/{code}/info and manual entry.
      path: loggablePath(request),
      status,
      durationMs,
      clientIp: request.ip ?? null,
    });
  };
  app.addHook('onResponse', async (request, reply) => {
    record(request, reply.statusCode, reply.elapsedTime);
  });
  /** 499 (as nginx logs it): the client closed the connection before the response was sent. */
  app.addHook('onRequestAbort', async (request) => {
    record(request, CLIENT_CLOSED_REQUEST, performance.now() - (request.auditStartedAt || performance.now()));
  });
  app.addHook('onClose', async () => {
    await writer.close();
  });
}

export default fp(auditTrail, { name: 'audit-trail', fastify: '5.x' });
