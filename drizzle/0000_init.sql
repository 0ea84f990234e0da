CREATE TABLE `batch_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`batch_id` text NOT NULL,
	`kind` text NOT NULL,
	`actor` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `batch_events_batch` ON `batch_events` (`batch_id`,`at`);--> statement-breakpoint
CREATE TABLE `batches` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`source` text NOT NULL,
	`status` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`activated_at` integer,
	`deactivated_at` integer,
	`report` text,
	`file_sha256` text,
	`contact_count` integer DEFAULT 0 NOT NULL,
	`replaced_batch_id` text,
	CONSTRAINT "batches_source_check" CHECK("batches"."source" in ('slack','api','cli','legacy')),
	CONSTRAINT "batches_status_check" CHECK("batches"."status" in ('importing','active','inactive'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `batches_one_active` ON `batches` (`status`) WHERE status = 'active';--> statement-breakpoint
CREATE INDEX `batches_created` ON `batches` (`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `batches_status_created` ON `batches` (`status`,`created_at`,`id`);--> statement-breakpoint
CREATE INDEX `batches_sha256` ON `batches` (`file_sha256`);--> statement-breakpoint
CREATE TABLE `contact_history` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`contact_id` integer,
	`from_status` text,
	`to_status` text NOT NULL,
	`actor` text NOT NULL,
	`reason` text,
	`at` integer NOT NULL,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `contact_history_contact` ON `contact_history` (`contact_id`,`at`);--> statement-breakpoint
CREATE TABLE `contacts` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`email` text NOT NULL,
	`email_hash` blob NOT NULL,
	`name` text,
	`company` text,
	`position` text,
	`source` text,
	`status` text DEFAULT 'active' NOT NULL,
	`batch_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "contacts_status_check" CHECK("contacts"."status" in ('active','inactive','bounced','unsubscribed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_email` ON `contacts` (`email`);--> statement-breakpoint
CREATE INDEX `contacts_batch` ON `contacts` (`batch_id`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_batch_status` ON `contacts` (`batch_id`,`status`,`id`);--> statement-breakpoint
CREATE TABLE `suppressions` (
	`email_hash` blob PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`actor` text NOT NULL,
	`created_at` integer NOT NULL,
	CONSTRAINT "suppressions_reason_check" CHECK("suppressions"."reason" in ('bounced','unsubscribed','deleted','manual'))
);
