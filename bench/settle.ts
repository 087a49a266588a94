// Waits, between scenarios, for the work a scenario leaves behind: events still in a service's outbox and
// events a JetStream consumer has not yet handled (a redemption run leaves tens of thousands of scan events
// for issuance to apply). Without it the next scenario shares the 2 cores with that backlog and measures
// it, not itself.
import { streamName } from '@cruise/shared';
import { connect } from 'nats';
import type { BenchEnvironment } from './environment.ts';

export interface Settled {
  settled: boolean;
  seconds: number;
  /** What was pending when the wait began: outbox rows and unhandled consumer messages. */
  initially: number;
  /** What was still pending when it gave up (empty when settled). */
  pending: string;
}

/** The schemas with an outbox (every service that publishes events). */
async function outboxSchemas(env: BenchEnvironment): Promise<string[]> {
  const { rows } = await env.pool.query<{ schema: string }>(
    `SELECT table_schema AS schema FROM information_schema.tables
      WHERE table_name = 'outbox' AND table_schema <> 'bench_scratch'`,
  );
  return rows.map((r) => r.schema);
}

async function unpublished(env: BenchEnvironment, schemas: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const schema of schemas) {
    const { rows } = await env.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".outbox WHERE published_at IS NULL`,
    );
    if (rows[0]!.n > 0) counts[`${schema} outbox`] = rows[0]!.n;
  }
  return counts;
}

export async function settle(env: BenchEnvironment, timeoutMs: number): Promise<Settled> {
  const started = performance.now();
  const nc = await connect({ servers: env.natsUrl });
  try {
    const jsm = await nc.jetstreamManager();
    const schemas = await outboxSchemas(env);
    let pending: Record<string, number> = {};
    let initially: number | undefined;
    while (performance.now() - started < timeoutMs) {
      pending = await unpublished(env, schemas);
      try {
        for await (const consumer of jsm.consumers.list(streamName(env.prefix))) {
          const n = consumer.num_pending + consumer.num_ack_pending;
          if (n > 0) pending[`consumer ${consumer.name}`] = n;
        }
      } catch (err) {
        // No stream yet means no consumer has anything pending.
        if (!/stream not found/i.test(String((err as Error).message))) throw err;
      }
      initially ??= Object.values(pending).reduce((a, b) => a + b, 0);
      if (Object.keys(pending).length === 0) {
        return { settled: true, seconds: (performance.now() - started) / 1000, initially, pending: '' };
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return {
      settled: false,
      seconds: (performance.now() - started) / 1000,
      initially: initially ?? 0,
      pending: Object.entries(pending)
        .map(([what, n]) => `${what}: ${n}`)
        .join(', '),
    };
  } finally {
    await nc.close();
  }
}

/** How long a wait for the system to settle may take (the quick mode's backlogs are small). */
export const settleTimeoutMs = (quick: boolean) => (quick ? 30_000 : 180_000);

/** "27590 pending at first, drained in 19.0 s (1450/s)", or "still pending after 180 s (…)". */
export function describeSettled(settled: Settled): string {
  if (!settled.settled) return `still pending after ${settled.seconds.toFixed(0)} s (${settled.pending})`;
  const rate = settled.seconds >= 1 ? ` (${(settled.initially / settled.seconds).toFixed(0)}/s)` : '';
  return `${settled.initially} pending at first, drained in ${settled.seconds.toFixed(1)} s${rate}`;
}
