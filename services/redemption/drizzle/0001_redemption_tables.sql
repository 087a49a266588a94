CREATE TABLE "redemption"."devices" (
	"device_id" uuid PRIMARY KEY NOT NULL,
	"venue" text NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "devices_key_hash_key" UNIQUE("key_hash")
);
--> statement-breakpoint
CREATE TABLE "redemption"."idempotency_keys" (
	"scope" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer NOT NULL,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_scope_key_pk" PRIMARY KEY("scope","key")
);
--> statement-breakpoint
CREATE TABLE "redemption"."nonces" (
	"device_id" uuid NOT NULL,
	"nonce" text NOT NULL,
	"request_hash" text NOT NULL,
	"status_code" integer,
	"body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "nonces_device_id_nonce_pk" PRIMARY KEY("device_id","nonce")
);
--> statement-breakpoint
CREATE TABLE "redemption"."qr_versions" (
	"ticket_code" text PRIMARY KEY NOT NULL,
	"version" integer NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "redemption"."redemptions" (
	"ticket_code" text NOT NULL,
	"function_code" text NOT NULL,
	"redeemed_at" timestamp with time zone NOT NULL,
	"device_id" uuid NOT NULL,
	"session_code" text,
	"nonce" text,
	CONSTRAINT "redemptions_ticket_function_key" UNIQUE("ticket_code","function_code")
);
--> statement-breakpoint
CREATE TABLE "redemption"."scans" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"device_id" uuid NOT NULL,
	"venue" text NOT NULL,
	"session_code" text,
	"scanned_at" timestamp with time zone DEFAULT now() NOT NULL,
	"outcome" text NOT NULL,
	"http_status" integer NOT NULL,
	"ticket_code" text,
	"function_code" text NOT NULL,
	"nonce" text,
	"replayed" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "redemption"."tickets" (
	"ticket_code" text PRIMARY KEY NOT NULL,
	"partner_id" uuid,
	"channel" text NOT NULL,
	"product_id" integer NOT NULL,
	"product_name" text NOT NULL,
	"status" text NOT NULL,
	"function_codes" text[] NOT NULL,
	"revision" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_idx" ON "redemption"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "scans_ticket_idx" ON "redemption"."scans" USING btree ("ticket_code","scanned_at");--> statement-breakpoint
CREATE INDEX "scans_device_idx" ON "redemption"."scans" USING btree ("device_id","scanned_at");