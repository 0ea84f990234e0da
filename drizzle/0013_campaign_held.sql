PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_campaigns` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`subject` text NOT NULL,
	`body` text NOT NULL,
	`html` text,
	`steps` text,
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
	`approval_required_at` integer,
	`approved_by` text,
	`approved_at` integer,
	`held_reason` text,
	`held_checks` text,
	CONSTRAINT "campaigns_status_check" CHECK("__new_campaigns"."status" in ('draft','scheduled','sending','paused','held','completed','cancelled'))
);
--> statement-breakpoint
INSERT INTO `__new_campaigns`("id", "name", "subject", "body", "html", "steps", "from_address", "send_at", "cron", "daily_limit", "rate_per_minute", "send_window", "timezone", "status", "status_reason", "next_run_at", "awaiting_confirmation", "run_count", "run_started_at", "created_by", "created_at", "updated_at", "started_at", "completed_at", "progress_ref", "approval_required_at", "approved_by", "approved_at", "held_reason", "held_checks") SELECT "id", "name", "subject", "body", "html", "steps", "from_address", "send_at", "cron", "daily_limit", "rate_per_minute", "send_window", "timezone", "status", "status_reason", "next_run_at", "awaiting_confirmation", "run_count", "run_started_at", "created_by", "created_at", "updated_at", "started_at", "completed_at", "progress_ref", "approval_required_at", "approved_by", "approved_at", "held_reason", "held_checks" FROM `campaigns`;--> statement-breakpoint
DROP TABLE `campaigns`;--> statement-breakpoint
ALTER TABLE `__new_campaigns` RENAME TO `campaigns`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `campaigns_status_next` ON `campaigns` (`status`,`next_run_at`);--> statement-breakpoint
CREATE INDEX `campaigns_created` ON `campaigns` (`created_at`,`id`);