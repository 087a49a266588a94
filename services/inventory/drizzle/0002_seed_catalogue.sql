-- Seed catalogue (generated from SEED_CATALOGUE in src/domain/catalogue.ts; a test keeps them equal).
INSERT INTO "inventory"."products" ("id", "name", "capacity", "currency", "position") VALUES
  (106, 'Premium Cruise Package', 10000, 'USD', 1),
  (107, 'Pet Plan', 10000, 'USD', 2),
  (108, 'Deluxe', 10000, 'USD', 3)
ON CONFLICT ("id") DO NOTHING;
--> statement-breakpoint
INSERT INTO "inventory"."product_functions" ("product_id", "function_code", "name", "position") VALUES
  (106, 'FERRY', 'Ferry boarding', 1),
  (106, 'PREMIUM_LOUNGE', 'Premium lounge access', 2),
  (106, 'BUFFET_DINNER', 'Buffet dinner', 3),
  (107, 'FERRY', 'Ferry boarding', 1),
  (107, 'PET_AREA', 'Pet area access', 2),
  (107, 'PET_SNACK', 'Pet snack', 3),
  (108, 'FERRY', 'Ferry boarding', 1),
  (108, 'SUITE', 'Suite access', 2),
  (108, 'GALA_DINNER', 'Gala dinner', 3),
  (108, 'SPA', 'Spa session', 4)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO "inventory"."prices" ("product_id", "customer_type", "weekday_amount", "weekend_amount", "position") VALUES
  (106, 'adult', 28800, 31800, 1),
  (106, 'child', 18800, 21800, 2),
  (106, 'elderly', 23800, 26800, 3),
  (106, 'student', 23800, 26800, 4),
  (107, 'adult', 18800, 22800, 1),
  (107, 'child', 3800, 7800, 2),
  (107, 'family', 8800, 12800, 3),
  (107, 'elderly', 11300, 15300, 4),
  (108, 'adult', 78800, 86800, 1),
  (108, 'vip', 58800, 66800, 2),
  (108, 'elderly', 68800, 76800, 3)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
WITH "created" AS (
  INSERT INTO "inventory"."pools" ("product_id", "channel", "allocated") VALUES
    (106, 'direct', 5000),
    (107, 'direct', 5000),
    (108, 'direct', 5000)
  ON CONFLICT DO NOTHING RETURNING "id", "product_id", "allocated"
)
INSERT INTO "inventory"."inventory_ledger" ("pool_id", "kind", "allocated_delta", "reference")
SELECT "id", 'allocate', "allocated", 'seed:direct:' || "product_id" FROM "created"
ON CONFLICT DO NOTHING;
