// NATS responders (queue group `inventory`) for the commands inventory answers: thin adapters over the
// domain. In-flight handlers are tracked so shutdown waits for them before the database pool closes.
import { type CommandName, type Logger, type NatsConnection, type Pool, respond } from '@cruise/shared';
import type { Subscription } from 'nats';
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

export const INVENTORY_QUEUE_GROUP = 'inventory';

export interface Responders {
  close(): Promise<void>;
}

export function startResponders(nc: NatsConnection, prefix: string, pool: Pool, log: Logger): Responders {
  const inFlight = new Set<Promise<unknown>>();
  const subscriptions: Subscription[] = [];
  const answer = <N extends CommandName>(name: N, handler: Parameters<typeof respond<N>>[4]) => {
    const tracked: typeof handler = (request) => {
      const work = handler(request);
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work)).catch(() => {});
      return work;
    };
    subscriptions.push(respond(nc, prefix, name, INVENTORY_QUEUE_GROUP, tracked, log));
  };

  answer('getReservation', async (request) => {
    const reservation = await getReservationSnapshot(pool, request.reservation_id);
    return reservation
      ? { ok: true, reservation }
      : { ok: false, code: 'NOT_FOUND', detail: 'No such reservation' };
  });
  answer('confirmHold', (request) =>
    confirmHold(pool, {
      reservationId: request.reservation_id,
      paymentId: request.payment_id,
      amount: request.amount,
    }),
  );
  answer('holdBatch', (request) => holdBatch(pool, request));
  answer('sellHeld', (request) => sellHeld(pool, request));
  answer('release', (request) => releaseUnits(pool, request));
  answer('directSale', (request) => directSale(pool, request));
  answer('listPools', async (request) => ({ ok: true, pools: await listPools(pool, request) }));
  answer('holdReservation', (request) => holdReservation(pool, request));
  answer('extendHold', (request) => extendHold(pool, request));
  answer('cancelHold', (request) => cancelHold(pool, request));
  answer('closeReservation', (request) => closeReservation(pool, request));
  answer('readReservations', async (request) => ({
    ok: true,
    reservations: await reservationSnapshots(pool, request.partner_id, request.reservation_ids),
  }));
  answer('catalogue', async () => ({ ok: true, products: await loadCatalogue(pool) }));

  return {
    async close() {
      for (const s of subscriptions) s.unsubscribe();
      await Promise.allSettled([...inFlight]);
    },
  };
}
