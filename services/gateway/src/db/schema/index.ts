export * from './api-keys.ts';
export * from './audit-log.ts';
export * from './gateway-schema.ts';
export * from './idempotency-keys.ts';
export * from './outbox.ts';
export * from './partners.ts';
