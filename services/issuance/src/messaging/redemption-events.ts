// Redemption's events issuance follows (durable consumer `issuance`): an entitlement redeemed, a ticket
// used. The others under `events.redemption.>` are not issuance's business and are skipped.
import { type EventMeta, events } from '@cruise/shared';
import type { IssuanceContext } from '../context.ts';
import { applyEntitlementRedeemed, applyTicketUsed } from '../domain/redemption-events.ts';

export const REDEMPTION_EVENTS = [events.ticketRedeemed, events.ticketUsed] as const;

export async function applyRedemption(
  data:
    | { ticket_code: string; function_code: string; redeemed_at: string }
    | {
        ticket_code: string;
        used_at: string;
        entitlements: { function_code: string; redeemed_at: string }[];
      },
  _meta: EventMeta,
  ctx: IssuanceContext,
): Promise<void> {
  if ('function_code' in data) await applyEntitlementRedeemed(ctx.pool, data);
  else await applyTicketUsed(ctx.pool, data);
}
