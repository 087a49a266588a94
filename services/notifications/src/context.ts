// What notifications' handlers, consumer and jobs share (built once by the manifest's `context`):
// configuration, the database, the secret sealer, the feed's cursor codec, the delivery queue, the
// dispatcher that runs its jobs and the bodies of the events this process stored (for the dispatcher).

import type { Pool, ServiceDeps } from '@cruise/shared';
import { type Config, QUEUES, type SecretSealer, type ServiceKit, secretSealer } from '@cruise/shared';
import { type EventBodies, eventBodyCache } from './domain/deliveries.ts';
import { type CursorCodec, cursorCodec } from './domain/feed.ts';
import { createNotificationMetrics } from './metrics.ts';
import {
  createDeliveryQueue,
  createDispatcher,
  type DeliveryQueue,
  type Dispatcher,
} from './workers/webhook-delivery.worker.ts';

export interface NotificationsContext {
  config: Config;
  pool: Pool;
  log: ServiceDeps['log'];
  sealer: SecretSealer;
  cursors: CursorCodec;
  queue: DeliveryQueue;
  dispatcher: Dispatcher;
  bodies: EventBodies;
}

/** Secrets are sealed with a key derived from ADMIN_TOKEN for this one purpose. */
export const WEBHOOK_SECRETS_PURPOSE = 'notifications:webhook-secrets';

export function webhookSecretSealer(config: Config): SecretSealer {
  return secretSealer(config.ADMIN_TOKEN, WEBHOOK_SECRETS_PURPOSE);
}

export function notificationsContext(
  config: Config,
  deps: ServiceDeps,
  kit: ServiceKit<unknown>,
): NotificationsContext {
  const sealer = webhookSecretSealer(config);
  const queue = createDeliveryQueue(kit.queue(QUEUES.webhookDelivery));
  const metrics = createNotificationMetrics(kit.metrics);
  const bodies = eventBodyCache();
  const dispatcher = createDispatcher({
    config,
    pool: deps.pool,
    log: deps.log,
    sealer,
    queue,
    metrics,
    bodies,
  });
  kit.onClose(() => dispatcher.close());
  return {
    config,
    pool: deps.pool,
    log: deps.log,
    sealer,
    cursors: cursorCodec(config.ADMIN_TOKEN),
    queue,
    dispatcher,
    bodies,
  };
}
