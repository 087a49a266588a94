export * from './issuance-schema.ts';
export * from './outbox.ts';
