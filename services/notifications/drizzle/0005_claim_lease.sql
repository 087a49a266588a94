ALTER TABLE "notifications"."deliveries" ADD COLUMN "claimed_until" timestamp with time zone;--> statement-breakpoint
-- Hand-added (drizzle-kit does not model storage parameters): every page keeps 60 % of its space free, so
-- that claiming a first attempt (claimed_until, in no index) is a HOT update on the same page, with no
-- new entry in any of the table's five indexes. Applies to pages written from now on.
ALTER TABLE "notifications"."deliveries" SET (fillfactor = 40);
