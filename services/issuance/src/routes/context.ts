// What the route adapters share: the pool, the inventory command client, configuration, and the
// hooks that run after a commit (enqueue a batch, nudge the outbox relay, send pool releases).
import {
  AppError,
  type CommandClient,
  type Config,
  type Outcome,
  type Pool,
  refusalError,
  requirePartner,
} from '@cruise/shared';
import type { FastifyRequest } from 'fastify';
import type { IssuanceMetrics } from '../metrics.ts';

export interface RouteContext {
  pool: Pool;
  inventory: CommandClient;
  config: Config;
  enqueueBatch(batchId: string): Promise<void>;
  /** Events were committed: publish them now rather than at the relay's next tick. */
  eventsWritten(): void;
  /** Releases were committed: try to send them now (the sweep retries whatever fails). */
  sendReleases(refs: string[]): Promise<void>;
  metrics?: IssuanceMetrics;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The calling partner, as vouched for by the gateway; its id is a UUID or the caller is refused. */
export function partnerOf(request: FastifyRequest): string {
  const id = requirePartner(request);
  if (!UUID_RE.test(id)) throw new AppError('UNAUTHORIZED', 'The partner identity is malformed');
  return id;
}

export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  return typeof key === 'string' && key.length > 0 ? key : undefined;
}

/** A domain refusal becomes the contract's problem response (thrown inside a transaction, it rolls back). */
export function orRefuse<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw refusalError(outcome);
  return outcome;
}
