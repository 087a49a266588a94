// The catalogue: products, their entitlements (function codes) and the price matrix. The seed below is
// the contract's ("Seed products and prices" in api.md); migration 0002 and `seedCatalogue` both apply
// the SQL built from it, so a fresh database and an upgraded one carry the same catalogue.
import { type DayType, type Pool, type Queryable, withTransaction } from '@cruise/shared';
import { table } from '../db/tables.ts';

export interface SeedProduct {
  product_id: number;
  name: string;
  capacity: number;
  currency: string;
  /** Allocation of the operator's `direct` pool at first start. */
  direct_allocation: number;
  functions: { function_code: string; name: string }[];
  /** [customer type, weekday amount, weekend amount] in minor units. */
  prices: [string, number, number][];
}

export const SEED_CATALOGUE: SeedProduct[] = [
  {
    product_id: 106,
    name: 'Premium Cruise Package',
    capacity: 10_000,
    currency: 'USD',
    direct_allocation: 5_000,
    functions: [
      { function_code: 'FERRY', name: 'Ferry boarding' },
      { function_code: 'PREMIUM_LOUNGE', name: 'Premium lounge access' },
      { function_code: 'BUFFET_DINNER', name: 'Buffet dinner' },
    ],
    prices: [
      ['adult', 28_800, 31_800],
      ['child', 18_800, 21_800],
      ['elderly', 23_800, 26_800],
      ['student', 23_800, 26_800],
    ],
  },
  {
    product_id: 107,
    name: 'Pet Plan',
    capacity: 10_000,
    currency: 'USD',
    direct_allocation: 5_000,
    functions: [
      { function_code: 'FERRY', name: 'Ferry boarding' },
      { function_code: 'PET_AREA', name: 'Pet area access' },
      { function_code: 'PET_SNACK', name: 'Pet snack' },
    ],
    prices: [
      ['adult', 18_800, 22_800],
      ['child', 3_800, 7_800],
      ['family', 8_800, 12_800],
      ['elderly', 11_300, 15_300],
    ],
  },
  {
    product_id: 108,
    name: 'Deluxe',
    capacity: 10_000,
    currency: 'USD',
    direct_allocation: 5_000,
    functions: [
      { function_code: 'FERRY', name: 'Ferry boarding' },
      { function_code: 'SUITE', name: 'Suite access' },
      { function_code: 'GALA_DINNER', name: 'Gala dinner' },
      { function_code: 'SPA', name: 'Spa session' },
    ],
    prices: [
      ['adult', 78_800, 86_800],
      ['vip', 58_800, 66_800],
      ['elderly', 68_800, 76_800],
    ],
  },
];

const lit = (v: string | number | null): string =>
  v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replaceAll("'", "''")}'`;

/**
 * The seed as SQL statements, each idempotent (existing rows are left alone, so an operator's later
 * changes survive a restart). The direct pool's allocation is recorded in the ledger like any other.
 */
export function catalogueSeedStatements(catalogue: SeedProduct[] = SEED_CATALOGUE): string[] {
  const products = catalogue.map(
    (p, i) => `(${lit(p.product_id)}, ${lit(p.name)}, ${lit(p.capacity)}, ${lit(p.currency)}, ${i + 1})`,
  );
  const functions = catalogue.flatMap((p) =>
    p.functions.map((f, i) => `(${lit(p.product_id)}, ${lit(f.function_code)}, ${lit(f.name)}, ${i + 1})`),
  );
  const prices = catalogue.flatMap((p) =>
    p.prices.map(
      ([type, weekday, weekend], i) =>
        `(${lit(p.product_id)}, ${lit(type)}, ${lit(weekday)}, ${lit(weekend)}, ${i + 1})`,
    ),
  );
  const directPools = catalogue.map((p) => `(${lit(p.product_id)}, 'direct', ${lit(p.direct_allocation)})`);
  return [
    `INSERT INTO "inventory"."products" ("id", "name", "capacity", "currency", "position") VALUES\n  ${products.join(',\n  ')}\nON CONFLICT ("id") DO NOTHING;`,
    `INSERT INTO "inventory"."product_functions" ("product_id", "function_code", "name", "position") VALUES\n  ${functions.join(',\n  ')}\nON CONFLICT DO NOTHING;`,
    `INSERT INTO "inventory"."prices" ("product_id", "customer_type", "weekday_amount", "weekend_amount", "position") VALUES\n  ${prices.join(',\n  ')}\nON CONFLICT DO NOTHING;`,
    `WITH "created" AS (\n  INSERT INTO "inventory"."pools" ("product_id", "channel", "allocated") VALUES\n    ${directPools.join(',\n    ')}\n  ON CONFLICT DO NOTHING RETURNING "id", "product_id", "allocated"\n)\nINSERT INTO "inventory"."inventory_ledger" ("pool_id", "kind", "allocated_delta", "reference")\nSELECT "id", 'allocate', "allocated", 'seed:direct:' || "product_id" FROM "created"\nON CONFLICT DO NOTHING;`,
  ];
}

/** Products, functions, prices and the direct pools of the seed; idempotent. */
export async function seedCatalogue(pool: Pool): Promise<void> {
  await withTransaction(pool, async (client) => {
    for (const statement of catalogueSeedStatements()) await client.query(statement);
  });
}

export interface ProductPrice {
  customer_type: string;
  weekday: number;
  weekend: number;
}

export interface Product {
  product_id: number;
  name: string;
  capacity: number;
  currency: string;
  functions: { function_code: string; name: string }[];
  prices: ProductPrice[];
}

/** The catalogue in display order, or just one product (three products: read per call, not cached). */
export async function loadCatalogue(db: Queryable, productId?: number): Promise<Product[]> {
  const { rows } = await db.query<Product>(
    `SELECT p.id AS product_id, p.name, p.capacity, p.currency,
       COALESCE((SELECT json_agg(json_build_object('function_code', f.function_code, 'name', f.name) ORDER BY f.position)
                 FROM ${table.product_functions} f WHERE f.product_id = p.id), '[]') AS functions,
       COALESCE((SELECT json_agg(json_build_object('customer_type', r.customer_type, 'weekday', r.weekday_amount,
                                                   'weekend', r.weekend_amount) ORDER BY r.position)
                 FROM ${table.prices} r WHERE r.product_id = p.id), '[]') AS prices
     FROM ${table.products} p WHERE ($1::int IS NULL OR p.id = $1) ORDER BY p.position, p.id`,
    [productId ?? null],
  );
  return rows;
}

/** One product, or undefined when the catalogue has no such product. */
export async function findProduct(db: Queryable, productId: number): Promise<Product | undefined> {
  const [product] = await loadCatalogue(db, productId);
  return product;
}

/** What issuance needs to know of a product to issue its tickets. */
export function productInfo(product: Product) {
  return {
    product_id: product.product_id,
    name: product.name,
    functions: product.functions.map((f) => f.function_code),
  };
}

export function unitPrice(price: ProductPrice, dayType: DayType): number {
  return dayType === 'weekend' ? price.weekend : price.weekday;
}
