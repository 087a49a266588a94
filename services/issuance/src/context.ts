// What issuance's handlers, responders and jobs share (built once by the manifest's `context`): the
// database, inventory's commands, configuration, and the hooks that run after a commit (enqueue a batch,
// nudge the outbox relay, send pool releases).
import type { CommandClient, Config, Logger, Pool } from '@cruise/shared';
import type { IssuanceMetrics } from './metrics.ts';

export interface IssuanceContext {
  pool: Pool;
  inventory: CommandClient;
  config: Config;
  log: Logger;
  enqueueBatch(batchId: string): Promise<void>;
  /** Events were committed: publish them now rather than at the relay's next tick. */
  eventsWritten(): void;
  /** Releases were committed: try to send them now (the sweep retries whatever fails). */
  sendReleases(refs: string[]): Promise<void>;
  /** True once the process is shutting down: a batch job is handed back between two chunks. */
  stopping(): boolean;
  /** Payments, tickets issued, batch progress, pending releases (/metrics). */
  metrics: IssuanceMetrics;
}
