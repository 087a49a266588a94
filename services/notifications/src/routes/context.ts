// What the route adapters share: configuration, the database, the secret sealer, the feed's cursor
// codec, and the delivery queue (absent on HTTP-only replicas: the dispatcher's sweeper then enqueues).
import {
  AppError,
  type Config,
  type Outcome,
  type Pool,
  type RouteDef,
  refusalError,
  requirePartner,
  type SecretSealer,
  webhookRoutes,
} from '@cruise/shared';
import type { FastifyRequest } from 'fastify';
import type { NewDelivery } from '../domain/event-store.ts';
import type { CursorCodec } from '../domain/feed.ts';

export interface RouteContext {
  config: Config;
  pool: Pool;
  sealer: SecretSealer;
  cursors: CursorCodec;
  enqueue(deliveries: NewDelivery[]): Promise<void>;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The calling partner, as vouched for by the gateway; its id is a UUID or the caller is refused. */
export function partnerOf(request: FastifyRequest): string {
  const id = requirePartner(request);
  if (!UUID_RE.test(id)) throw new AppError('UNAUTHORIZED', 'The partner identity is malformed');
  return id;
}

/** A domain refusal becomes the contract's problem response. */
export function orRefuse<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw refusalError(outcome);
  return outcome;
}

export function contractRoute(operationId: string): RouteDef {
  const route = webhookRoutes.find((r) => r.operationId === operationId);
  if (!route) throw new Error(`no contract route ${operationId}`);
  return route;
}
