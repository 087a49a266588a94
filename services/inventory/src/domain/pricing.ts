// Pricing: unit prices by customer type for the visit date's day type (weekday/weekend in the venue's
// calendar).
import { type DayType, type Outcome, refuse } from '@cruise/shared';
import { type Product, unitPrice } from './catalogue.ts';

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
