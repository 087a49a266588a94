// The durable JetStream consumer `notifications` of every service's partner events
// (`events.*.partner-events`: one filter subject, as NATS 2.9 allows). Each message's events are
// stored with their deliveries, then the deliveries' first attempts are enqueued.
import { type EventMeta, partnerEventsData, withTimeout } from '@cruise/shared';
import type { NotificationsContext } from '../context.ts';
import { storeEvents } from '../domain/event-store.ts';

export async function storePartnerEvents(
  data: unknown,
  meta: EventMeta,
  ctx: NotificationsContext,
): Promise<void> {
  const parsed = partnerEventsData.safeParse(data);
  if (!parsed.success) {
    // Redelivering a malformed message cannot fix it; skip it loudly rather than block the stream.
    ctx.log.error(
      { subject: meta.subject, id: meta.envelope.id, issues: parsed.error.issues },
      'malformed partner events skipped',
    );
    return;
  }
  const created = await storeEvents(ctx.pool, parsed.data.events, ctx.bodies);
  // Stored and committed: losing this enqueue (Redis down) only delays the deliveries until the sweep.
  // Bounded wait, so a Redis outage never holds up storing the events behind this one.
  if (created.length > 0) {
    await withTimeout(ctx.queue.enqueue(created), 2_000, 'enqueue timed out').catch((err) =>
      ctx.log.warn({ err, deliveries: created.length }, 'deliveries not enqueued; the sweeper will'),
    );
  }
}
