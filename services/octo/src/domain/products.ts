// The catalogue in OCTO's words: each product (106-108) has one option `DEFAULT`, whose units are the
// product's customer types; with octo/pricing the units carry their retail prices from the matrix.
import type { CommandReply } from '@cruise/shared';
import type { zPricing, zProduct, zUnit } from '@octocloud/types';
import { OctoError } from './octo-errors.ts';

export type OctoProduct = ReturnType<typeof zProduct.parse>;
type OctoUnit = ReturnType<typeof zUnit.parse>;
export type OctoPricing = ReturnType<typeof zPricing.parse>;
export type CatalogueProduct = Extract<CommandReply<'catalogue'>, { ok: true }>['products'][number];

export const OPTION_ID = 'DEFAULT';
/** A reservation holds 1..100 units (the REST contract's limit). */
export const MAX_UNITS = 100;

/** api.md's mapping of customer types to OCTO unit types; the unit id is the customer type itself. */
const UNIT_TYPES: Record<string, OctoUnit['type']> = {
  adult: 'ADULT',
  child: 'CHILD',
  elderly: 'SENIOR',
  student: 'STUDENT',
  family: 'FAMILY',
  vip: 'OTHER',
};
export const unitTypeOf = (customerType: string): OctoUnit['type'] => UNIT_TYPES[customerType] ?? 'OTHER';

export function pricingOf(amount: number, currency: string): OctoPricing {
  return { original: amount, retail: amount, net: null, currency, currencyPrecision: 2, includedTaxes: [] };
}

/** Whether the request asked for octo/pricing (`Octo-Capabilities: octo/pricing, …`). */
export function wantsPricing(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .includes('octo/pricing');
}

function unitOf(
  product: CatalogueProduct,
  price: CatalogueProduct['prices'][number],
  pricing: boolean,
): OctoUnit {
  return {
    id: price.customer_type,
    internalName: price.customer_type,
    reference: price.customer_type,
    type: unitTypeOf(price.customer_type),
    restrictions: {
      minAge: 0,
      maxAge: 100,
      idRequired: false,
      minQuantity: null,
      maxQuantity: null,
      paxCount: 1,
      accompaniedBy: [],
    },
    requiredContactFields: [],
    // The lowest price of the matrix (weekday or weekend) is the "from" price.
    ...(pricing
      ? { pricingFrom: [pricingOf(Math.min(price.weekday, price.weekend), product.currency)] }
      : {}),
  };
}

export function octoProduct(product: CatalogueProduct, timeZone: string, pricing: boolean): OctoProduct {
  const units = product.prices.map((p) => unitOf(product, p, pricing));
  const cheapest = Math.min(...product.prices.map((p) => Math.min(p.weekday, p.weekend)));
  return {
    id: String(product.product_id),
    internalName: product.name,
    reference: String(product.product_id),
    locale: 'en',
    timeZone,
    allowFreesale: false,
    instantConfirmation: true,
    instantDelivery: true,
    availabilityRequired: true,
    availabilityType: 'OPENING_HOURS',
    deliveryFormats: ['QRCODE'],
    deliveryMethods: ['TICKET'],
    redemptionMethod: 'DIGITAL',
    options: [
      {
        id: OPTION_ID,
        default: true,
        internalName: product.name,
        reference: null,
        availabilityLocalStartTimes: ['00:00'],
        cancellationCutoff: '0 hour',
        cancellationCutoffAmount: 0,
        cancellationCutoffUnit: 'hour',
        requiredContactFields: [],
        restrictions: { minUnits: 1, maxUnits: MAX_UNITS },
        units,
        ...(pricing && Number.isFinite(cheapest)
          ? { pricingFrom: [pricingOf(cheapest, product.currency)] }
          : {}),
      },
    ],
    ...(pricing
      ? {
          defaultCurrency: product.currency,
          availableCurrencies: [product.currency],
          pricingPer: 'UNIT' as const,
        }
      : {}),
  };
}

/** The catalogue product an OCTO `productId` names, or INVALID_PRODUCT_ID. */
export function findProduct(catalogue: CatalogueProduct[], productId: unknown): CatalogueProduct {
  const found =
    typeof productId === 'string' && /^\d{1,9}$/.test(productId)
      ? catalogue.find((p) => p.product_id === Number(productId))
      : undefined;
  if (!found) {
    throw new OctoError(
      'INVALID_PRODUCT_ID',
      'The productId was missing or invalid',
      String(productId ?? ''),
    );
  }
  return found;
}

export function checkOption(optionId: unknown): void {
  if (optionId !== OPTION_ID) {
    throw new OctoError('INVALID_OPTION_ID', 'The optionId was missing or invalid', String(optionId ?? ''));
  }
}
