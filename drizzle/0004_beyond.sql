CREATE TABLE `domain_suppressions` (
	`pattern` text PRIMARY KEY NOT NULL,
	`actor` text NOT NULL,
	`reason` text,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `smtp_accounts` (
	`key` text PRIMARY KEY NOT NULL,
	`first_used_at` integer,
	`consecutive_failures` integer DEFAULT 0 NOT NULL,
	`skip_until` integer,
	`last_error` text
);
--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`event` text NOT NULL,
	`url` text NOT NULL,
	`payload` text NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`last_status` integer,
	`last_error` text,
	`created_at` integer NOT NULL,
	`delivered_at` integer,
	CONSTRAINT "webhook_deliveries_state_check" CHECK("webhook_deliveries"."state" in ('pending','delivered','failed'))
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`state`,`next_attempt_at`);--> statement-breakpoint
ALTER TABLE `campaigns` ADD `approval_required_at` integer;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `approved_by` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `approved_at` integer;--> statement-breakpoint
ALTER TABLE `sends` ADD `account` text;--> statement-breakpoint
CREATE INDEX `sends_account_claimed` ON `sends` (`account`,`claimed_at`);