// Issuance keeps the product facts inventory tells it (name, entitlement codes) for ticket snapshots.
import type { PoolClient } from '@cruise/shared';
import { table } from '../db/tables.ts';

export interface ProductInfo {
  product_id: number;
  name: string;
  functions: string[];
}

export async function rememberProduct(client: PoolClient, product: ProductInfo): Promise<void> {
  await client.query(
    `INSERT INTO ${table.product_catalogue} (product_id, name, functions) VALUES ($1, $2, $3::jsonb)
     ON CONFLICT (product_id) DO UPDATE SET name = EXCLUDED.name, functions = EXCLUDED.functions,
       updated_at = now()
     WHERE product_catalogue.name IS DISTINCT FROM EXCLUDED.name
        OR product_catalogue.functions IS DISTINCT FROM EXCLUDED.functions`,
    [product.product_id, product.name, JSON.stringify(product.functions)],
  );
}
