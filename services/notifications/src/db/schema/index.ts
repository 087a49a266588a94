export * from './deliveries.ts';
export * from './delivery-attempts.ts';
export * from './events.ts';
export * from './idempotency-keys.ts';
export * from './notifications-schema.ts';
export * from './webhooks.ts';
