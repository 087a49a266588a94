export * from './bookings.ts';
export * from './octo-schema.ts';
