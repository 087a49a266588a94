// The schema-qualified names of notifications' tables for the statements written as SQL, taken from
// the drizzle definitions (db/schema) so that a table or schema is named in one place.
import { sqlName } from '@cruise/shared';
import { deliveries, deliveryAttempts, events, webhooks } from './schema/index.ts';

export const table = {
  deliveries: sqlName(deliveries),
  delivery_attempts: sqlName(deliveryAttempts),
  events: sqlName(events),
  webhooks: sqlName(webhooks),
} as const;
