// What issuance asks of inventory for tickets outside reservations: holding a batch in the reseller
// pool, selling one of its held units at activation, releasing units (cancel, expiry), the operator's
// direct sales, and the pools for reconciliation. Each state change runs once per caller reference.
import { type Channel, dayTypeOf, isValidDate, type Outcome, type Pool, refuse } from '@cruise/shared';
import { findProduct, loadCatalogue, productInfo, unitPrice } from './catalogue.ts';
import { runOnce } from './command-log.ts';
import { available, findPool, moveUnits, type PoolView, poolViews } from './pools.ts';
import { type PricedItem, priceItems, type RequestedItem } from './pricing.ts';

type ProductInfo = ReturnType<typeof productInfo>;

/** More units than any pool can hold: refused before it can overflow a counter. */
const MAX_UNITS_PER_COMMAND = 1_000_000;
const tooMany = (quantity: number) =>
  refuse(
    'VALIDATION_FAILED',
    `${quantity} units is more than one command may move (${MAX_UNITS_PER_COMMAND})`,
  );

const insufficient = (productId: number, channel: Channel, left: number) =>
  refuse(
    'INSUFFICIENT_INVENTORY',
    `Only ${left} units of product ${productId} are available in channel ${channel}`,
    {
      available: left,
    },
  );

/** Holds `quantity` units of the partner's reseller pool for a batch of pre-generated tickets. */
export function holdBatch(
  pool: Pool,
  input: { batch_id: string; partner_id: string; product_id: number; quantity: number },
): Promise<Outcome<{ product: ProductInfo }>> {
  return runOnce(pool, 'holdBatch', input.batch_id, input, async (client) => {
    if (input.quantity > MAX_UNITS_PER_COMMAND) return tooMany(input.quantity);
    const product = await findProduct(client, input.product_id);
    if (!product) return refuse('UNKNOWN_PRODUCT', `Product ${input.product_id} does not exist`);
    const target = await findPool(client, input.product_id, 'reseller', input.partner_id);
    if (!target) return insufficient(input.product_id, 'reseller', 0);
    const moved = await moveUnits(client, {
      poolId: target.id,
      kind: 'hold',
      heldDelta: input.quantity,
      soldDelta: 0,
      reference: `batch:${input.batch_id}`,
    });
    if (!moved.moved)
      return insufficient(input.product_id, 'reseller', Math.max(0, available(moved.pool ?? target)));
    return { ok: true, product: productInfo(product) };
  });
}

/** One held reseller unit → sold, priced for the customer type on `date`'s day type (ticket activation). */
export function sellHeld(
  pool: Pool,
  input: {
    ref: string;
    partner_id: string;
    product_id: number;
    channel: 'reseller';
    customer_type: string;
    date: string;
  },
): Promise<Outcome<{ unit_price: { amount: number; currency: string } }>> {
  return runOnce(pool, 'sellHeld', input.ref, input, async (client) => {
    if (!isValidDate(input.date))
      return refuse('VALIDATION_FAILED', `"${input.date}" is not a date YYYY-MM-DD`);
    const product = await findProduct(client, input.product_id);
    if (!product) return refuse('UNKNOWN_PRODUCT', `Product ${input.product_id} does not exist`);
    const price = product.prices.find((p) => p.customer_type === input.customer_type);
    if (!price) {
      return refuse(
        'UNKNOWN_CUSTOMER_TYPE',
        `Product ${product.product_id} is not sold to customer type "${input.customer_type}"`,
      );
    }
    const target = await findPool(client, input.product_id, 'reseller', input.partner_id);
    const moved =
      target &&
      (await moveUnits(client, {
        poolId: target.id,
        kind: 'sell',
        heldDelta: -1,
        soldDelta: 1,
        reference: `sell-held:${input.ref}`,
      }));
    if (!moved?.moved) {
      return refuse(
        'INSUFFICIENT_INVENTORY',
        `No held unit of product ${input.product_id} in the reseller pool`,
        {
          available: 0,
        },
      );
    }
    return {
      ok: true,
      unit_price: { amount: unitPrice(price, dayTypeOf(input.date)), currency: product.currency },
    };
  });
}

/** Returns units to a pool, from held (an unused pre-generated ticket) or from sold (a cancelled ticket). */
export function releaseUnits(
  pool: Pool,
  input: {
    ref: string;
    partner_id: string | null;
    product_id: number;
    channel: Channel;
    from: 'held' | 'sold';
    quantity: number;
    reason: 'cancel' | 'expire';
  },
): Promise<Outcome<Record<never, never>>> {
  return runOnce(pool, 'release', input.ref, input, async (client) => {
    if (input.quantity > MAX_UNITS_PER_COMMAND) return tooMany(input.quantity);
    if ((input.channel === 'direct') !== (input.partner_id === null)) {
      return refuse('VALIDATION_FAILED', 'The direct pool has no partner; ota and reseller pools have one');
    }
    const target = await findPool(client, input.product_id, input.channel, input.partner_id);
    if (!target)
      return refuse('NOT_FOUND', `No ${input.channel} pool of product ${input.product_id} for that owner`);
    const moved = await moveUnits(client, {
      poolId: target.id,
      kind: input.reason === 'expire' ? 'expire' : 'release',
      heldDelta: input.from === 'held' ? -input.quantity : 0,
      soldDelta: input.from === 'sold' ? -input.quantity : 0,
      reference: `release:${input.ref}`,
    });
    if (!moved.moved) {
      const pool = moved.pool ?? target;
      return refuse(
        'INSUFFICIENT_INVENTORY',
        `Cannot release ${input.quantity} ${input.from} units: the pool has ${pool[input.from]}`,
        { [input.from]: pool[input.from] },
      );
    }
    return { ok: true };
  });
}

/** The operator's own sale from the direct pool: priced for the visit date, sold at once. */
export function directSale(
  pool: Pool,
  input: { order_id: string; product_id: number; visit_date: string; items: RequestedItem[] },
): Promise<
  Outcome<{ items: PricedItem[]; total: { amount: number; currency: string }; product: ProductInfo }>
> {
  return runOnce(pool, 'directSale', input.order_id, input, async (client) => {
    if (!isValidDate(input.visit_date)) {
      return refuse('VALIDATION_FAILED', `"${input.visit_date}" is not a date YYYY-MM-DD`);
    }
    const product = await findProduct(client, input.product_id);
    if (!product) return refuse('UNKNOWN_PRODUCT', `Product ${input.product_id} does not exist`);
    const priced = priceItems(product, input.items, dayTypeOf(input.visit_date));
    if (!priced.ok) return priced;
    if (priced.quantity > MAX_UNITS_PER_COMMAND) return tooMany(priced.quantity);
    const target = await findPool(client, input.product_id, 'direct', null);
    if (!target) return insufficient(input.product_id, 'direct', 0);
    const moved = await moveUnits(client, {
      poolId: target.id,
      kind: 'sell',
      heldDelta: 0,
      soldDelta: priced.quantity,
      reference: `direct-order:${input.order_id}`,
    });
    if (!moved.moved)
      return insufficient(input.product_id, 'direct', Math.max(0, available(moved.pool ?? target)));
    return { ok: true, items: priced.items, total: priced.total, product: productInfo(product) };
  });
}

/**
 * A partner's ota and reseller pools (partner_id null: the direct pools), one entry per product and
 * channel, zeros where nothing was allocated. Expired-but-unswept holds count as available.
 */
export async function listPools(
  pool: Pool,
  input: { partner_id: string | null; now?: Date },
): Promise<Omit<PoolView, 'partner_id'>[]> {
  const [catalogue, views] = await Promise.all([
    loadCatalogue(pool),
    poolViews(pool, { partnerId: input.partner_id, now: input.now ?? new Date() }),
  ]);
  const channels: Channel[] = input.partner_id === null ? ['direct'] : ['ota', 'reseller'];
  return catalogue.flatMap((product) =>
    channels.map((channel) => {
      const view = views.find((v) => v.product_id === product.product_id && v.channel === channel);
      return {
        product_id: product.product_id,
        channel,
        allocated: view?.allocated ?? 0,
        held: view?.held ?? 0,
        sold: view?.sold ?? 0,
        available: view?.available ?? 0,
      };
    }),
  );
}
