// The gateway's own Prometheus series, on the service's /metrics registry: what the edge refused,
// whether limits are shared or per instance, and whether the audit trail keeps up.

import type { RateLimiter } from '@cruise/shared';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AuditWriter } from './audit/audit-log.ts';

export interface GatewayMetrics {
  rateLimited: Counter<'scope'>;
  credentialsRefused: Counter<'code'>;
  upstreamFailures: Counter<'service'>;
}

export function createGatewayMetrics(
  registry: Registry,
  sources: { limiter: RateLimiter; audit: AuditWriter },
): GatewayMetrics {
  new Gauge({
    name: 'gateway_rate_limiter_fallback',
    help: '1 while Redis is unreachable and limits are enforced per instance in memory',
    registers: [registry],
    collect() {
      this.set(sources.limiter.mode() === 'fallback' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'gateway_audit_buffered_rows',
    help: 'Audit rows waiting to be written',
    registers: [registry],
    collect() {
      this.set(sources.audit.stats().buffered);
    },
  });
  new Gauge({
    name: 'gateway_audit_dropped_rows',
    help: 'Audit rows dropped since start (buffer full during an outage, or rejected by the database)',
    registers: [registry],
    collect() {
      this.set(sources.audit.stats().dropped);
    },
  });
  const credentialsRefused = new Counter({
    name: 'gateway_credentials_refused_total',
    help: 'Requests refused at the edge for their credentials, by code: unauthorized (unknown or revoked key), partner_suspended, invalid_signature (payment webhook)',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  for (const code of ['unauthorized', 'partner_suspended', 'invalid_signature']) {
    credentialsRefused.inc({ code }, 0);
  }
  return {
    credentialsRefused,
    rateLimited: new Counter({
      name: 'gateway_rate_limited_total',
      help: 'Requests refused with 429, by budget (partner or client ip)',
      labelNames: ['scope'] as const,
      registers: [registry],
    }),
    upstreamFailures: new Counter({
      name: 'gateway_upstream_failures_total',
      help: 'Forwarded requests answered 503 because the owning service was unreachable or too slow',
      labelNames: ['service'] as const,
      registers: [registry],
    }),
  };
}
