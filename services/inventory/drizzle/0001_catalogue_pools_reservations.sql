CREATE TABLE "inventory"."command_log" (
	"command" text NOT NULL,
	"ref" text NOT NULL,
	"request_hash" text NOT NULL,
	"reply" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "command_log_command_ref_pk" PRIMARY KEY("command","ref")
);
--> statement-breakpoint
CREATE TABLE "inventory"."idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "inventory"."inventory_ledger" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"pool_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"allocated_delta" integer DEFAULT 0 NOT NULL,
	"held_delta" integer DEFAULT 0 NOT NULL,
	"sold_delta" integer DEFAULT 0 NOT NULL,
	"reference" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "inventory_ledger_kind_reference_key" UNIQUE("kind","reference"),
	CONSTRAINT "inventory_ledger_kind_check" CHECK ("inventory"."inventory_ledger"."kind" IN ('allocate', 'hold', 'release', 'sell', 'expire'))
);
--> statement-breakpoint
CREATE TABLE "inventory"."pools" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"product_id" integer NOT NULL,
	"channel" text NOT NULL,
	"partner_id" uuid,
	"allocated" integer DEFAULT 0 NOT NULL,
	"held" integer DEFAULT 0 NOT NULL,
	"sold" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pools_product_channel_partner_key" UNIQUE NULLS NOT DISTINCT("product_id","channel","partner_id"),
	CONSTRAINT "pools_channel_check" CHECK ("inventory"."pools"."channel" IN ('direct', 'ota', 'reseller')),
	CONSTRAINT "pools_owner_check" CHECK (("inventory"."pools"."channel" = 'direct') = ("inventory"."pools"."partner_id" IS NULL)),
	CONSTRAINT "pools_counters_check" CHECK ("inventory"."pools"."allocated" >= 0 AND "inventory"."pools"."held" >= 0 AND "inventory"."pools"."sold" >= 0 AND "inventory"."pools"."held" + "inventory"."pools"."sold" <= "inventory"."pools"."allocated")
);
--> statement-breakpoint
CREATE TABLE "inventory"."prices" (
	"product_id" integer NOT NULL,
	"customer_type" text NOT NULL,
	"weekday_amount" integer NOT NULL,
	"weekend_amount" integer NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "prices_product_id_customer_type_pk" PRIMARY KEY("product_id","customer_type"),
	CONSTRAINT "prices_amounts_check" CHECK ("inventory"."prices"."weekday_amount" >= 0 AND "inventory"."prices"."weekend_amount" >= 0)
);
--> statement-breakpoint
CREATE TABLE "inventory"."product_functions" (
	"product_id" integer NOT NULL,
	"function_code" text NOT NULL,
	"name" text NOT NULL,
	"position" integer NOT NULL,
	CONSTRAINT "product_functions_product_id_function_code_pk" PRIMARY KEY("product_id","function_code")
);
--> statement-breakpoint
CREATE TABLE "inventory"."products" (
	"id" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"capacity" integer NOT NULL,
	"currency" text NOT NULL,
	"position" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "inventory"."reservations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"partner_id" uuid NOT NULL,
	"pool_id" uuid NOT NULL,
	"product_id" integer NOT NULL,
	"visit_date" date NOT NULL,
	"day_type" text NOT NULL,
	"reseller_id" uuid,
	"reseller_reference" text,
	"status" text NOT NULL,
	"items" jsonb NOT NULL,
	"quantity" integer NOT NULL,
	"total_amount" integer NOT NULL,
	"currency" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"confirmed_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"expired_at" timestamp with time zone,
	"payment_id" text,
	"reheld" boolean DEFAULT false NOT NULL,
	CONSTRAINT "reservations_payment_id_key" UNIQUE("payment_id"),
	CONSTRAINT "reservations_status_check" CHECK ("inventory"."reservations"."status" IN ('ON_HOLD', 'CONFIRMED', 'EXPIRED', 'CANCELLED')),
	CONSTRAINT "reservations_quantity_check" CHECK ("inventory"."reservations"."quantity" BETWEEN 1 AND 100)
);
--> statement-breakpoint
ALTER TABLE "inventory"."inventory_ledger" ADD CONSTRAINT "inventory_ledger_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "inventory"."pools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."pools" ADD CONSTRAINT "pools_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."prices" ADD CONSTRAINT "prices_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."product_functions" ADD CONSTRAINT "product_functions_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."reservations" ADD CONSTRAINT "reservations_pool_id_pools_id_fk" FOREIGN KEY ("pool_id") REFERENCES "inventory"."pools"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "inventory"."reservations" ADD CONSTRAINT "reservations_product_id_products_id_fk" FOREIGN KEY ("product_id") REFERENCES "inventory"."products"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "inventory"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "inventory_ledger_pool_idx" ON "inventory"."inventory_ledger" USING btree ("pool_id");--> statement-breakpoint
CREATE INDEX "reservations_partner_created_idx" ON "inventory"."reservations" USING btree ("partner_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "reservations_partner_reference_idx" ON "inventory"."reservations" USING btree ("partner_id","reseller_reference");--> statement-breakpoint
CREATE INDEX "reservations_on_hold_expiry_idx" ON "inventory"."reservations" USING btree ("pool_id","expires_at") WHERE "inventory"."reservations"."status" = 'ON_HOLD';--> statement-breakpoint
CREATE INDEX "reservations_expiry_idx" ON "inventory"."reservations" USING btree ("expires_at") WHERE "inventory"."reservations"."status" = 'ON_HOLD';