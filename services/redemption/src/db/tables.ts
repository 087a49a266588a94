// The schema-qualified names of redemption's tables (and of its scan function) for the statements
// written as SQL, taken from the drizzle definitions (db/schema) so that a table or schema is named once.
import { sqlName } from '@cruise/shared';
import {
  devices,
  nonces,
  qrVersions,
  redemptionSchema,
  redemptions,
  scans,
  tickets,
} from './schema/index.ts';

export const table = {
  devices: sqlName(devices),
  nonces: sqlName(nonces),
  qr_versions: sqlName(qrVersions),
  redemptions: sqlName(redemptions),
  scans: sqlName(scans),
  tickets: sqlName(tickets),
} as const;

/** `redeem_scan(...)`, the plpgsql function of migrations 0004 and 0006, in the service's schema. */
export const REDEEM_SCAN_FN = `"${redemptionSchema.schemaName}".redeem_scan`;
