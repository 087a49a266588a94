DROP INDEX "inventory"."idempotency_keys_created_idx";--> statement-breakpoint
ALTER TABLE "inventory"."idempotency_keys" ALTER COLUMN "status_code" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory"."idempotency_keys" ALTER COLUMN "body" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "inventory"."idempotency_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
-- Idempotency-Key replies were purged 48 h after their creation; now each says when.
UPDATE "inventory"."idempotency_keys" SET "expires_at" = "created_at" + interval '48 hours';--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "inventory"."idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
-- The command log's replies move to the recorded replies (scope command:<name>, kept for good).
INSERT INTO "inventory"."idempotency_keys" ("scope", "key", "request_hash", "status_code", "body", "created_at", "expires_at")
  SELECT 'command:' || "command", "ref", "request_hash", 200, "reply", "created_at", NULL
  FROM "inventory"."command_log" WHERE "reply" IS NOT NULL;--> statement-breakpoint
DROP TABLE "inventory"."command_log" CASCADE;
