export * from './outbox.ts';
export * from './redemption-schema.ts';
