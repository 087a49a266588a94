CREATE SCHEMA "gateway";
--> statement-breakpoint
CREATE TABLE "gateway"."outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"envelope" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "outbox_unpublished_idx" ON "gateway"."outbox" USING btree ("id") WHERE published_at IS NULL;