// Durable JetStream consumer of redemption's events: entitlements redeemed and tickets used.
import { consumeEvents, events, type Logger, type NatsConnection, type Pool } from '@cruise/shared';
import { applyEntitlementRedeemed, applyTicketUsed } from '../domain/redemption-events.ts';

export function consumeRedemptionEvents(nc: NatsConnection, prefix: string, pool: Pool, log: Logger) {
  return consumeEvents({
    nc,
    prefix,
    durable: 'issuance',
    filter: 'events.redemption.>',
    log,
    async handle(subject, envelope) {
      const def =
        subject === events.ticketRedeemed.subject
          ? events.ticketRedeemed
          : subject === events.ticketUsed.subject
            ? events.ticketUsed
            : null;
      if (!def) return; // other redemption events are not issuance's business
      const parsed = def.data.safeParse(envelope.data);
      if (!parsed.success) {
        // Redelivering a malformed event would never succeed: log it loudly and move on.
        log.error(
          { subject, id: envelope.id, issues: parsed.error.issues },
          'malformed redemption event skipped',
        );
        return;
      }
      if (def === events.ticketRedeemed) await applyEntitlementRedeemed(pool, parsed.data as never);
      else await applyTicketUsed(pool, parsed.data as never);
    },
  });
}
