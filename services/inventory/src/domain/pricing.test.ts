// Unit tests of pricing (no database): merging, refusals, and totals as a property.
import { dayTypeOf } from '@cruise/shared';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Product, SEED_CATALOGUE } from './catalogue.ts';
import { priceItems } from './pricing.ts';

const products: Product[] = SEED_CATALOGUE.map((p) => ({
  product_id: p.product_id,
  name: p.name,
  capacity: p.capacity,
  currency: p.currency,
  functions: p.functions,
  prices: p.prices.map(([customer_type, weekday, weekend]) => ({ customer_type, weekday, weekend })),
}));
const premium = products[0]!;

describe('priceItems', () => {
  it('prices by day type and merges lines of one customer type', () => {
    const priced = priceItems(
      premium,
      [
        { customer_type: 'adult', quantity: 1 },
        { customer_type: 'child', quantity: 1 },
        { customer_type: 'adult', quantity: 1 },
      ],
      'weekend',
    );
    expect(priced).toEqual({
      ok: true,
      items: [
        { customer_type: 'adult', quantity: 2, unit_price: { amount: 31800, currency: 'USD' } },
        { customer_type: 'child', quantity: 1, unit_price: { amount: 21800, currency: 'USD' } },
      ],
      quantity: 3,
      total: { amount: 85400, currency: 'USD' },
    });
  });

  it('refuses a customer type the product is not sold to', () => {
    const deluxe = products[2]!;
    const priced = priceItems(deluxe, [{ customer_type: 'child', quantity: 1 }], 'weekday');
    expect(priced).toMatchObject({ ok: false, code: 'UNKNOWN_CUSTOMER_TYPE' });
  });

  it('the total is the sum of quantity × the day type’s unit price', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...products),
        fc.date({ min: new Date('2020-01-01'), max: new Date('2035-12-31'), noInvalidDate: true }),
        fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 6 }),
        (product, date, quantities) => {
          const visitDate = date.toISOString().slice(0, 10);
          const dayType = dayTypeOf(visitDate);
          const items = quantities.map((q, i) => ({
            customer_type: product.prices[i % product.prices.length]!.customer_type,
            quantity: q + 1,
          }));
          const priced = priceItems(product, items, dayType);
          if (!priced.ok) return false;
          const expected = items.reduce((sum, item) => {
            const price = product.prices.find((p) => p.customer_type === item.customer_type)!;
            return sum + item.quantity * (dayType === 'weekend' ? price.weekend : price.weekday);
          }, 0);
          return (
            priced.total.amount === expected &&
            priced.quantity === items.reduce((n, i) => n + i.quantity, 0) &&
            new Set(priced.items.map((i) => i.customer_type)).size === priced.items.length
          );
        },
      ),
    );
  });
});
