-- Covering columns (drizzle cannot express INCLUDE, hence this hand-written migration). The ticket
-- list's capped total over a batch or a reseller filtered by status/product then runs as an index-only
-- scan instead of visiting up to a whole batch of heap pages.
DROP INDEX "issuance"."tickets_batch_seq_key";--> statement-breakpoint
CREATE UNIQUE INDEX "tickets_batch_seq_key" ON "issuance"."tickets" USING btree ("batch_id","batch_seq") INCLUDE ("partner_id","status","product_id") WHERE batch_id IS NOT NULL;--> statement-breakpoint
DROP INDEX "issuance"."tickets_partner_reseller_created_idx";--> statement-breakpoint
CREATE INDEX "tickets_partner_reseller_created_idx" ON "issuance"."tickets" USING btree ("partner_id","reseller_id","created_at" DESC NULLS LAST,"id" DESC NULLS LAST) INCLUDE ("status","product_id") WHERE reseller_id IS NOT NULL;
