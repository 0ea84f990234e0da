CREATE TABLE `campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`html` text,
	`from_address` text NOT NULL,
	`send_at` integer,
	`cron` text,
	`daily_limit` integer,
	`rate_per_minute` integer,
	`send_window` text,
	`timezone` text DEFAULT 'UTC' NOT NULL,
	`status` text NOT NULL,
	`status_reason` text,
	`next_run_at` integer,
	`awaiting_confirmation` integer DEFAULT false NOT NULL,
	`run_count` integer DEFAULT 0 NOT NULL,
	`run_started_at` integer,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`started_at` integer,
	`completed_at` integer,
	`progress_ref` text,
	CONSTRAINT "campaigns_status_check" CHECK("campaigns"."status" in ('draft','scheduled','sending','paused','completed','cancelled'))
);
--> statement-breakpoint
CREATE INDEX `campaigns_status_next` ON `campaigns` (`status`,`next_run_at`);--> statement-breakpoint
CREATE INDEX `campaigns_created` ON `campaigns` (`created_at`,`id`);--> statement-breakpoint
CREATE TABLE `sends` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` text NOT NULL,
	`contact_id` integer,
	`email_hash` blob NOT NULL,
	`run` integer NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_attempt_at` integer,
	`message_id` text,
	`response` text,
	`claimed_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`unsubscribed_at` integer,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "sends_status_check" CHECK("sends"."status" in ('claimed','sent','retry','failed','bounced','unknown'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sends_campaign_contact` ON `sends` (`campaign_id`,`contact_id`);--> statement-breakpoint
CREATE INDEX `sends_campaign_status` ON `sends` (`campaign_id`,`status`,`next_attempt_at`);--> statement-breakpoint
CREATE INDEX `sends_campaign_run` ON `sends` (`campaign_id`,`run`);--> statement-breakpoint
CREATE TABLE `settings` (
	`key` text PRIMARY KEY NOT NULL,
	`value` text NOT NULL
);
