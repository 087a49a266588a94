CREATE TABLE "issuance"."batches" (
	"batch_id" uuid PRIMARY KEY NOT NULL,
	"partner_id" uuid NOT NULL,
	"product_id" integer NOT NULL,
	"reseller_id" uuid NOT NULL,
	"quantity" integer NOT NULL,
	"generated" integer DEFAULT 0 NOT NULL,
	"status" text DEFAULT 'QUEUED' NOT NULL,
	"batch_reference" text,
	"distribution" jsonb,
	"error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"completed_at" timestamp with time zone,
	"expires_at" timestamp with time zone NOT NULL,
	"expiry_swept_at" timestamp with time zone,
	CONSTRAINT "batches_status_check" CHECK ("issuance"."batches"."status" IN ('QUEUED', 'RUNNING', 'COMPLETED', 'FAILED')),
	CONSTRAINT "batches_quantity_check" CHECK ("issuance"."batches"."quantity" BETWEEN 1 AND 1000000),
	CONSTRAINT "batches_generated_check" CHECK ("issuance"."batches"."generated" BETWEEN 0 AND "issuance"."batches"."quantity")
);
--> statement-breakpoint
CREATE TABLE "issuance"."idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "issuance"."payments" (
	"payment_id" text PRIMARY KEY NOT NULL,
	"reservation_id" uuid NOT NULL,
	"notified_status" text NOT NULL,
	"outcome" text NOT NULL,
	"amount" integer NOT NULL,
	"currency" text NOT NULL,
	"paid_at" text,
	"response_status" integer NOT NULL,
	"response_body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "payments_outcome_check" CHECK ("issuance"."payments"."outcome" IN ('CONFIRMED', 'FAILED', 'REFUND_REQUIRED'))
);
--> statement-breakpoint
CREATE TABLE "issuance"."pending_releases" (
	"ref" text PRIMARY KEY NOT NULL,
	"partner_id" uuid,
	"product_id" integer NOT NULL,
	"channel" text NOT NULL,
	"from_state" text NOT NULL,
	"quantity" integer NOT NULL,
	"reason" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"sent_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "issuance"."product_catalogue" (
	"product_id" integer PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"functions" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "issuance"."resellers" (
	"reseller_id" uuid PRIMARY KEY NOT NULL,
	"partner_id" uuid NOT NULL,
	"name" text NOT NULL,
	"contact_email" text,
	"region" text,
	"commission_rate" numeric(5, 4),
	"status" text DEFAULT 'ACTIVE' NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "resellers_status_check" CHECK ("issuance"."resellers"."status" IN ('ACTIVE', 'INACTIVE'))
);
--> statement-breakpoint
CREATE TABLE "issuance"."tickets" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "issuance"."tickets_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"ticket_code" text NOT NULL,
	"partner_id" uuid,
	"channel" text NOT NULL,
	"product_id" integer NOT NULL,
	"status" text NOT NULL,
	"reservation_id" uuid,
	"order_id" uuid,
	"unit_index" integer,
	"batch_id" uuid,
	"batch_seq" integer,
	"reseller_id" uuid,
	"customer_type" text,
	"price_amount" integer,
	"price_currency" text,
	"customer_name" text,
	"customer_email" text,
	"order_reference" text,
	"entitlements" jsonb NOT NULL,
	"revision" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"activated_at" timestamp with time zone,
	"used_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"expired_at" timestamp with time zone,
	CONSTRAINT "tickets_channel_check" CHECK ("issuance"."tickets"."channel" IN ('direct', 'ota', 'reseller')),
	CONSTRAINT "tickets_status_check" CHECK ("issuance"."tickets"."status" IN ('PRE_GENERATED', 'ACTIVE', 'USED', 'CANCELLED', 'EXPIRED'))
);
--> statement-breakpoint
CREATE INDEX "batches_partner_created_idx" ON "issuance"."batches" USING btree ("partner_id","created_at" DESC NULLS LAST,"batch_id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "batches_expiry_due_idx" ON "issuance"."batches" USING btree ("expires_at") WHERE expiry_swept_at IS NULL;--> statement-breakpoint
CREATE INDEX "batches_unfinished_idx" ON "issuance"."batches" USING btree ("created_at") WHERE status IN ('QUEUED', 'RUNNING');--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "issuance"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "pending_releases_unsent_idx" ON "issuance"."pending_releases" USING btree ("created_at") WHERE sent_at IS NULL;--> statement-breakpoint
CREATE INDEX "resellers_partner_created_idx" ON "issuance"."resellers" USING btree ("partner_id","created_at" DESC NULLS LAST,"reseller_id" DESC NULLS LAST);--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_code_key" ON "issuance"."tickets" USING btree ("ticket_code");--> statement-breakpoint
CREATE INDEX "tickets_partner_created_idx" ON "issuance"."tickets" USING btree ("partner_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_partner_status_created_idx" ON "issuance"."tickets" USING btree ("partner_id","status","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "tickets_partner_reseller_created_idx" ON "issuance"."tickets" USING btree ("partner_id","reseller_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE reseller_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_batch_seq_key" ON "issuance"."tickets" USING btree ("batch_id","batch_seq") WHERE batch_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_reservation_unit_key" ON "issuance"."tickets" USING btree ("reservation_id","unit_index") WHERE reservation_id IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_order_unit_key" ON "issuance"."tickets" USING btree ("order_id","unit_index") WHERE order_id IS NOT NULL;