CREATE SCHEMA "octo";
--> statement-breakpoint
CREATE TABLE "octo"."bookings" (
	"partner_id" uuid NOT NULL,
	"uuid" uuid NOT NULL,
	"reservation_id" uuid NOT NULL,
	"product_id" integer NOT NULL,
	"visit_date" date NOT NULL,
	"reseller_reference" text,
	"notes" text,
	"contact" jsonb NOT NULL,
	"unit_items" jsonb NOT NULL,
	"cancellation_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bookings_pkey" PRIMARY KEY("partner_id","uuid"),
	CONSTRAINT "bookings_reservation_id_key" UNIQUE("reservation_id")
);
--> statement-breakpoint
CREATE INDEX "bookings_partner_reseller_ref_idx" ON "octo"."bookings" USING btree ("partner_id","reseller_reference");--> statement-breakpoint
CREATE INDEX "bookings_partner_visit_date_idx" ON "octo"."bookings" USING btree ("partner_id","visit_date");