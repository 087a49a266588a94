// Inventory's business series on its /metrics registry: what happened to reservations, and every pool's
// counters (read from the database when Prometheus scrapes, so they are never stale or double-counted).
import type { Pool } from '@cruise/shared';
import { Counter, Gauge, type Registry } from 'prom-client';
import { table } from './db/tables.ts';
import type { PoolRow } from './domain/pools.ts';

export interface InventoryMetrics {
  /** outcome: held, a refusal code in lower case (insufficient_inventory, …), confirmed, cancelled, expired. */
  reservations: Counter<'outcome'>;
}

export function createInventoryMetrics(registry: Registry, pool: Pool): InventoryMetrics {
  new Gauge({
    name: 'inventory_pool_units',
    help: 'Units of each pool by state (allocated, held, sold, available); partner_id is empty for the direct pool',
    labelNames: ['product_id', 'channel', 'partner_id', 'state'] as const,
    registers: [registry],
    async collect() {
      const { rows } = await pool.query<Omit<PoolRow, 'id'>>(
        `SELECT product_id, channel, partner_id, allocated, held, sold FROM ${table.pools}`,
      );
      this.reset();
      for (const r of rows) {
        const labels = {
          product_id: String(r.product_id),
          channel: r.channel,
          partner_id: r.partner_id ?? '',
        };
        this.set({ ...labels, state: 'allocated' }, r.allocated);
        this.set({ ...labels, state: 'held' }, r.held);
        this.set({ ...labels, state: 'sold' }, r.sold);
        this.set({ ...labels, state: 'available' }, r.allocated - r.held - r.sold);
      }
    },
  });
  const reservations = new Counter({
    name: 'inventory_reservations_total',
    help: 'Reservation outcomes: held, refused (by error code), confirmed, cancelled, expired',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  for (const outcome of ['held', 'insufficient_inventory', 'confirmed', 'cancelled', 'expired']) {
    reservations.inc({ outcome }, 0);
  }
  return { reservations };
}
