// Issuance's business series on its /metrics registry: payments by outcome, tickets issued by channel,
// batch generation (tickets written, time from request to completion), and the pool releases still
// waiting for inventory (read from the database at scrape time).
import { type Pool, sharedRead } from '@cruise/shared';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { table } from './db/tables.ts';

export interface IssuanceMetrics {
  /**
   * outcome: confirmed, on_account (an OCTO confirm charged to the partner's account), failed (the
   * provider's FAILED), replayed, or a refusal code in lower case.
   */
  payments: Counter<'outcome'>;
  ticketsIssued: Counter<'channel'>;
  batchTicketsGenerated: Counter;
  batchDuration: Histogram;
}

export function createIssuanceMetrics(registry: Registry, pool: Pool): IssuanceMetrics {
  const payments = new Counter({
    name: 'issuance_payments_total',
    help: 'Payment notifications and on-account confirms by outcome: confirmed, on_account, failed, replayed, or the refusal code (invalid_signature, amount_mismatch, …)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['confirmed', 'failed', 'invalid_signature']) payments.inc({ outcome }, 0);
  const ticketsIssued = new Counter({
    name: 'issuance_tickets_issued_total',
    help: 'Tickets issued by channel: ota (paid reservations), direct (operator orders), reseller (batch tickets)',
    labelNames: ['channel'] as const,
    registers: [registry],
  });
  for (const channel of ['ota', 'direct', 'reseller']) ticketsIssued.inc({ channel }, 0);
  const batchTicketsGenerated = new Counter({
    name: 'issuance_batch_tickets_generated_total',
    help: 'Pre-generated tickets written by the batch worker',
    registers: [registry],
  });
  const batchDuration = new Histogram({
    name: 'issuance_batch_duration_seconds',
    help: 'Time from a bulk-generation request to its batch being COMPLETED',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800],
    registers: [registry],
  });
  // One query per scrape serves both gauges.
  const pending = sharedRead(async () => {
    const { rows } = await pool.query<{ n: number; age: number | null }>(
      `SELECT count(*)::int AS n, extract(epoch FROM now() - min(created_at))::float8 AS age
         FROM ${table.pending_releases} WHERE sent_at IS NULL`,
    );
    return { count: rows[0]?.n ?? 0, oldest: rows[0]?.age ?? 0 };
  });
  new Gauge({
    name: 'issuance_pending_releases',
    help: 'Pool releases written by issuance and not yet acknowledged by inventory (GET /api/admin/pending-releases)',
    registers: [registry],
    async collect() {
      this.set((await pending()).count);
    },
  });
  new Gauge({
    name: 'issuance_pending_release_oldest_age_seconds',
    help: 'Age of the oldest pool release still waiting for inventory (0 when none)',
    registers: [registry],
    async collect() {
      this.set((await pending()).oldest);
    },
  });
  return { payments, ticketsIssued, batchTicketsGenerated, batchDuration };
}
