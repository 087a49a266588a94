// The inventory view partners read: their ota and reseller pools and the full price matrix for a date.
import { dayTypeOf, type Pool } from '@cruise/shared';
import { loadCatalogue, unitPrice } from './catalogue.ts';
import { poolViews } from './pools.ts';

export interface ChannelCounters {
  allocated: number;
  held: number;
  sold: number;
  available: number;
}

const EMPTY: ChannelCounters = { allocated: 0, held: 0, sold: 0, available: 0 };

/** GET /api/ota/inventory: the caller's ota and reseller pools and the price matrix for `visitDate`. */
export async function inventoryView(pool: Pool, input: { partnerId: string; visitDate: string; now: Date }) {
  const dayType = dayTypeOf(input.visitDate);
  const [catalogue, pools] = await Promise.all([
    loadCatalogue(pool),
    poolViews(pool, { partnerId: input.partnerId, now: input.now }),
  ]);
  const counters = (productId: number, channel: 'ota' | 'reseller'): ChannelCounters => {
    const p = pools.find((v) => v.product_id === productId && v.channel === channel);
    return p ? { allocated: p.allocated, held: p.held, sold: p.sold, available: p.available } : { ...EMPTY };
  };
  return {
    as_of: input.now.toISOString(),
    visit_date: input.visitDate,
    day_type: dayType,
    products: catalogue.map((product) => {
      const adult = product.prices.find((p) => p.customer_type === 'adult');
      return {
        product_id: product.product_id,
        name: product.name,
        functions: product.functions,
        channels: {
          ota: counters(product.product_id, 'ota'),
          reseller: counters(product.product_id, 'reseller'),
        },
        pricing: {
          currency: product.currency,
          customer_types: product.prices.map((p) => {
            const price = unitPrice(p, dayType);
            return {
              customer_type: p.customer_type,
              weekday: p.weekday,
              weekend: p.weekend,
              price,
              // How much less than an adult pays on this day type (0 when the product has no adult price).
              discount_vs_adult: adult ? unitPrice(adult, dayType) - price : 0,
            };
          }),
        },
      };
    }),
  };
}
