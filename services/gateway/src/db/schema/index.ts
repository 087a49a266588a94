export * from './gateway-schema.ts';
export * from './outbox.ts';
