// What redemption's handlers share (built once by the manifest's `context`): configuration, the
// database, issuance as a ticket source, the outbox relay to nudge after a commit that wrote events,
// and the same per-client and per-device budgets as the gateway's (scanners may call this port directly).
import type { ClientBudgets, Config, OutboxRelay, Pool } from '@cruise/shared';
import type { DeviceKeys } from './domain/devices.ts';
import type { TicketSource } from './domain/projection.ts';
import type { RedemptionMetrics } from './metrics.ts';

export interface RedemptionContext {
  config: Config;
  pool: Pool;
  source: TicketSource;
  relay: OutboxRelay;
  budgets: ClientBudgets;
  /** Device keys seen valid → their device (revocation is checked by the scan itself). */
  deviceKeys: DeviceKeys;
  /** Redemptions by result (/metrics). */
  metrics: RedemptionMetrics;
}
