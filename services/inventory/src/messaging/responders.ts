// The commands inventory answers (queue group `inventory`, so replicas share them): thin adapters over
// the domain. Inventory asks nobody: issuance and the OCTO adapter send these; it never calls back.
import { type ManifestResponder, responder } from '@cruise/shared';
import type { InventoryContext } from '../context.ts';
import { loadCatalogue } from '../domain/catalogue.ts';
import { directSale, holdBatch, listPools, releaseUnits, sellHeld } from '../domain/issuance-commands.ts';
import {
  cancelHold,
  closeReservation,
  extendHold,
  holdReservation,
  reservationSnapshots,
} from '../domain/reservation-commands.ts';
import { confirmHold, getReservationSnapshot } from '../domain/reservations.ts';
import { createReservation, partnerReservation } from './reservation-requests.ts';

export const inventoryResponders: ManifestResponder<InventoryContext>[] = [
  // A partner's REST reservation, after issuance checked its reseller; one read alone (issuance adds tickets).
  responder('createReservation', async (request, ctx) => {
    const reply = await createReservation(ctx.holds, ctx.config, request);
    // A replayed hold (same Idempotency-Key) did not run again, so it is not counted again.
    if (!reply.ok) ctx.metrics.reservations.inc({ outcome: reply.code.toLowerCase() });
    else if (!reply.replayed) ctx.metrics.reservations.inc({ outcome: 'held' });
    return reply;
  }),
  responder('partnerReservation', (request, ctx) => partnerReservation(ctx.pool, request)),
  responder('getReservation', async (request, ctx) => {
    const reservation = await getReservationSnapshot(ctx.pool, request.reservation_id);
    return reservation
      ? { ok: true, reservation }
      : { ok: false, code: 'NOT_FOUND', detail: 'No such reservation' };
  }),
  responder('confirmHold', async (request, ctx) => {
    const reply = await confirmHold(ctx.pool, {
      reservationId: request.reservation_id,
      paymentId: request.payment_id,
      amount: request.amount,
    });
    if (reply.ok) ctx.metrics.reservations.inc({ outcome: 'confirmed' });
    return reply;
  }),
  responder('holdBatch', (request, ctx) => holdBatch(ctx.pool, request)),
  responder('sellHeld', (request, ctx) => sellHeld(ctx.pool, request)),
  responder('release', (request, ctx) => releaseUnits(ctx.pool, request)),
  responder('directSale', (request, ctx) => directSale(ctx.pool, request)),
  responder('listPools', async (request, ctx) => ({ ok: true, pools: await listPools(ctx.pool, request) })),
  // The OCTO adapter's holds and reads.
  // Holds and cancels asked over NATS (the OCTO adapter) count like the REST ones; a replayed hold
  // (same ref) does not run again, so it is not counted again.
  responder('holdReservation', async (request, ctx) => {
    const outcome = await holdReservation(ctx.pool, request, () =>
      ctx.metrics.reservations.inc({ outcome: 'held' }),
    );
    if (!outcome.ok) ctx.metrics.reservations.inc({ outcome: outcome.code.toLowerCase() });
    return outcome;
  }),
  responder('extendHold', (request, ctx) => extendHold(ctx.pool, request)),
  responder('cancelHold', async (request, ctx) => {
    const outcome = await cancelHold(ctx.pool, request);
    if (outcome.ok) ctx.metrics.reservations.inc({ outcome: 'cancelled' });
    return outcome;
  }),
  responder('closeReservation', (request, ctx) => closeReservation(ctx.pool, request)),
  responder('readReservations', async (request, ctx) => ({
    ok: true,
    reservations: await reservationSnapshots(ctx.pool, request.partner_id, request.reservation_ids),
  })),
  responder('catalogue', async (_request, ctx) => ({ ok: true, products: await loadCatalogue(ctx.pool) })),
];
