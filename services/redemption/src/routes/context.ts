// What the route adapters need from the app: configuration, the database, issuance as a ticket source
// and the outbox relay to nudge after a commit that wrote events.
import type { ClientBudgets, Config, OutboxRelay, Pool } from '@cruise/shared';
import type { TicketSource } from '../domain/projection.ts';
import type { RedemptionMetrics } from '../metrics.ts';

export interface RouteContext {
  config: Config;
  pool: Pool;
  source: TicketSource;
  relay: OutboxRelay;
  /** The same per-client and per-device budgets as the gateway's (scanners may call this port directly). */
  budgets: ClientBudgets;
  metrics?: RedemptionMetrics;
}
