// The notifications service's Prometheus series on its /metrics registry: delivery results, attempts,
// delivery lag (event committed at its source → receiver's 2xx) and the delivery queue's depth.
import { Counter, Histogram, type Registry } from 'prom-client';

export interface NotificationMetrics {
  deliveries: Counter<'result'>;
  attempts: Counter<'outcome'>;
  lag: Histogram;
}

// The delivery queue's depth is the shared `bullmq_queue_jobs{queue="webhook-delivery"}`: the manifest
// watches every queue a service uses, so it is not measured twice here.
export function createNotificationMetrics(registry: Registry): NotificationMetrics {
  return {
    deliveries: new Counter({
      name: 'notifications_webhook_deliveries_total',
      help: 'Deliveries finished, by result: succeeded, failed (retries exhausted) or gone (410: webhook disabled)',
      labelNames: ['result'] as const,
      registers: [registry],
    }),
    attempts: new Counter({
      name: 'notifications_webhook_attempts_total',
      help: 'HTTP attempts, by outcome: 2xx, 3xx, 4xx, 410, 5xx, timeout, blocked (address refused), error',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    lag: new Histogram({
      name: 'notifications_webhook_delivery_lag_seconds',
      help: 'From the event committed at its source to the receiver answering 2xx',
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 86_400],
      registers: [registry],
    }),
  };
}
