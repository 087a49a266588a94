// Pricing: unit prices by customer type for the visit date's day type (weekday/weekend in the venue's
// calendar), and the inventory view partners read.
import { type DayType, dayTypeOf, type Outcome, type Pool, refuse } from '@cruise/shared';
import { loadCatalogue, type Product, unitPrice } from './catalogue.ts';
import { poolViews } from './pools.ts';

export interface RequestedItem {
  customer_type: string;
  quantity: number;
}

export interface PricedItem {
  customer_type: string;
  quantity: number;
  unit_price: { amount: number; currency: string };
}

export interface PricedOrder {
  items: PricedItem[];
  quantity: number;
  total: { amount: number; currency: string };
}

/**
 * Prices the requested items; lines of the same customer type are merged (first one's position).
 * A customer type the product is not sold to is refused.
 */
export function priceItems(
  product: Product,
  items: RequestedItem[],
  dayType: DayType,
): Outcome<PricedOrder, 'UNKNOWN_CUSTOMER_TYPE'> {
  const merged = new Map<string, number>();
  for (const item of items)
    merged.set(item.customer_type, (merged.get(item.customer_type) ?? 0) + item.quantity);
  const priced: PricedItem[] = [];
  for (const [customerType, quantity] of merged) {
    const price = product.prices.find((p) => p.customer_type === customerType);
    if (!price) {
      return refuse(
        'UNKNOWN_CUSTOMER_TYPE',
        `Product ${product.product_id} is not sold to customer type "${customerType}"; it is sold to ${product.prices
          .map((p) => p.customer_type)
          .join(', ')}`,
      );
    }
    priced.push({
      customer_type: customerType,
      quantity,
      unit_price: { amount: unitPrice(price, dayType), currency: product.currency },
    });
  }
  return {
    ok: true,
    items: priced,
    quantity: priced.reduce((n, i) => n + i.quantity, 0),
    total: {
      amount: priced.reduce((sum, i) => sum + i.quantity * i.unit_price.amount, 0),
      currency: product.currency,
    },
  };
}

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
