CREATE TABLE `file_imports` (
	`external_id` text PRIMARY KEY NOT NULL,
	`state` text NOT NULL,
	`batch_id` text,
	`actor` text NOT NULL,
	`reply_to` text,
	`error_code` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "file_imports_state_check" CHECK("file_imports"."state" in ('claimed','imported','failed'))
);
--> statement-breakpoint
CREATE INDEX `file_imports_state` ON `file_imports` (`state`);--> statement-breakpoint
CREATE TABLE `processed_events` (
	`event_id` text PRIMARY KEY NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `processed_events_at` ON `processed_events` (`at`);