// Keeps the ticket projection current from issuance's ticket events (durable consumer `redemption`).
import {
  consumeEvents,
  type EventConsumer,
  events,
  type Logger,
  type NatsConnection,
  type Pool,
} from '@cruise/shared';
import { applySnapshots } from '../domain/projection.ts';

const TICKET_EVENTS = [
  events.ticketsIssued,
  events.ticketsActivated,
  events.ticketsCancelled,
  events.ticketsExpired,
] as const;
const bySubject = new Map<string, (typeof TICKET_EVENTS)[number]>(TICKET_EVENTS.map((e) => [e.subject, e]));

export function startIssuanceEventConsumer(opts: {
  nc: NatsConnection;
  prefix: string;
  pool: Pool;
  log: Logger;
}): Promise<EventConsumer> {
  return consumeEvents({
    nc: opts.nc,
    prefix: opts.prefix,
    durable: 'redemption',
    filter: 'events.issuance.>',
    log: opts.log,
    async handle(subject, envelope) {
      const def = bySubject.get(subject);
      if (!def) return; // another issuance event (batches, reports …): not ours to project
      const parsed = def.data.safeParse(envelope.data);
      if (!parsed.success) {
        // Redelivering a malformed event cannot fix it; skip it loudly rather than block the stream.
        opts.log.error(
          { subject, id: envelope.id, issues: parsed.error.issues },
          'malformed ticket event skipped',
        );
        return;
      }
      await applySnapshots(opts.pool, parsed.data.tickets);
    },
  });
}
