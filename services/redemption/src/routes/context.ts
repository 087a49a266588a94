// What the route adapters need from the app: configuration, the database, issuance as a ticket source
// and the outbox relay to nudge after a commit that wrote events.
import type { Config, OutboxRelay, Pool } from '@cruise/shared';
import type { TicketSource } from '../domain/projection.ts';

export interface RouteContext {
  config: Config;
  pool: Pool;
  source: TicketSource;
  relay: OutboxRelay;
}
