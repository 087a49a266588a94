DROP INDEX "issuance"."idempotency_keys_created_idx";--> statement-breakpoint
ALTER TABLE "issuance"."idempotency_keys" ALTER COLUMN "status_code" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "issuance"."idempotency_keys" ALTER COLUMN "body" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "issuance"."idempotency_keys" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
-- Idempotency-Key replies were purged 48 h after their creation; now each says when.
UPDATE "issuance"."idempotency_keys" SET "expires_at" = "created_at" + interval '48 hours';--> statement-breakpoint
CREATE INDEX "idempotency_keys_expires_idx" ON "issuance"."idempotency_keys" USING btree ("expires_at");--> statement-breakpoint
-- Payment answers move to the recorded replies (scope payment, kept for good); the request hash is
-- the one recordedReply() computes: SHA-256 of stableJson({ reservation_id, amount, currency }).
INSERT INTO "issuance"."idempotency_keys" ("scope", "key", "request_hash", "status_code", "body", "created_at", "expires_at")
  SELECT 'payment', "payment_id",
    encode(sha256(convert_to('{"amount":' || "amount" || ',"currency":' || to_json("currency")::text
      || ',"reservation_id":' || to_json("reservation_id"::text)::text || '}', 'UTF8')), 'hex'),
    "response_status", jsonb_build_object('outcome', "outcome", 'answer', "response_body"), "created_at", NULL
  FROM "issuance"."payments";--> statement-breakpoint
ALTER TABLE "issuance"."payments" DROP COLUMN "response_status";--> statement-breakpoint
ALTER TABLE "issuance"."payments" DROP COLUMN "response_body";
