DROP INDEX `sends_account_claimed`;--> statement-breakpoint
CREATE INDEX `sends_legacy_message_id` ON `sends` (`message_id`) WHERE substr("sends"."message_id", 1, 4) <> '<cb.';--> statement-breakpoint
CREATE INDEX `sends_mailbox_marked` ON `sends` (`campaign_id`,`status`) WHERE "sends"."replied_at" IS NOT NULL OR "sends"."complained_at" IS NOT NULL OR "sends"."soft_bounced_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `sends_account_claimed` ON `sends` (`account`,`claimed_at`) WHERE "sends"."account" IS NOT NULL;