// The schema-qualified names of issuance's tables for the statements written as SQL, taken from the
// drizzle definitions (db/schema) so that a table or schema is named in one place.
import { sqlName } from '@cruise/shared';
import {
  batches,
  outbox,
  payments,
  pendingReleases,
  productCatalogue,
  resellers,
  tickets,
} from './schema/index.ts';

export const table = {
  batches: sqlName(batches),
  outbox: sqlName(outbox),
  payments: sqlName(payments),
  pending_releases: sqlName(pendingReleases),
  product_catalogue: sqlName(productCatalogue),
  resellers: sqlName(resellers),
  tickets: sqlName(tickets),
} as const;
