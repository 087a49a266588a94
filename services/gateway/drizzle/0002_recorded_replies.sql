DROP INDEX "gateway"."idempotency_keys_created_idx";--> statement-breakpoint
ALTER TABLE "gateway"."idempotency_keys" ALTER COLUMN "status_code" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "gateway"."idempotency_keys" ALTER COLUMN "body" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "gateway"."idempotency_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
-- Idempotency-Key replies were purged 48 h after their creation; now each says when.
UPDATE "gateway"."idempotency_keys" SET "expires_at" = "created_at" + interval '48 hours';--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "gateway"."idempotency_keys" USING btree ("expires_at");
