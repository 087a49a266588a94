// Durable JetStream consumer `notifications` of every service's partner events
// (`events.*.partner-events`: one filter subject, as NATS 2.9 allows). Each message's events are
// stored with their deliveries, then the deliveries' first attempts are enqueued.
import {
  consumeEvents,
  type EventConsumer,
  type Logger,
  type NatsConnection,
  type Pool,
  partnerEventsData,
  withTimeout,
} from '@cruise/shared';
import { storeEvents } from '../domain/event-store.ts';
import type { DeliveryQueue } from '../workers/webhook-delivery.worker.ts';

export function startPartnerEventConsumer(opts: {
  nc: NatsConnection;
  prefix: string;
  pool: Pool;
  log: Logger;
  /** Absent on HTTP-only replicas: the dispatcher's sweeper enqueues what they stored. */
  queue?: DeliveryQueue;
}): Promise<EventConsumer> {
  const { log } = opts;
  return consumeEvents({
    nc: opts.nc,
    prefix: opts.prefix,
    durable: 'notifications',
    filter: 'events.*.partner-events',
    log,
    async handle(subject, envelope) {
      const parsed = partnerEventsData.safeParse(envelope.data);
      if (!parsed.success) {
        // Redelivering a malformed message cannot fix it; skip it loudly rather than block the stream.
        log.error(
          { subject, id: envelope.id, issues: parsed.error.issues },
          'malformed partner events skipped',
        );
        return;
      }
      const created = await storeEvents(opts.pool, parsed.data.events);
      // Stored and committed: losing this enqueue (Redis down) only delays the deliveries until the sweep.
      // Bounded wait, so a Redis outage never holds up storing the events behind this one.
      if (opts.queue && created.length > 0) {
        await withTimeout(opts.queue.enqueue(created), 2_000, 'enqueue timed out').catch((err) =>
          log.warn({ err, deliveries: created.length }, 'deliveries not enqueued; the sweeper will'),
        );
      }
    },
  });
}
