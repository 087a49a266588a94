// Redemption's events issuance follows (durable consumer `issuance`): an entitlement redeemed, a ticket
// used. The others under `events.redemption.>` are not issuance's business and are skipped. They are
// taken in groups (those that arrived while the previous group was applied), one transaction each.
import { events, type GroupedEvent } from '@cruise/shared';
import type { IssuanceContext } from '../context.ts';
import { applyRedemptionEvents, type RedemptionEvent } from '../domain/redemption-events.ts';

export const REDEMPTION_EVENTS = [events.ticketRedeemed, events.ticketUsed] as const;

export async function applyRedemptions(
  group: GroupedEvent<RedemptionEvent>[],
  ctx: IssuanceContext,
): Promise<void> {
  await applyRedemptionEvents(
    ctx.pool,
    group.map((e) => e.data),
  );
}
