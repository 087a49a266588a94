export * from './inventory-schema.ts';
export * from './outbox.ts';
