CREATE TABLE `validation_runs` (
	`id` text PRIMARY KEY NOT NULL,
	`batch_id` text NOT NULL,
	`seq` integer NOT NULL,
	`actor` text NOT NULL,
	`status` text NOT NULL,
	`started_at` integer NOT NULL,
	`ended_at` integer,
	`after_id` integer DEFAULT 0 NOT NULL,
	`checked` integer DEFAULT 0 NOT NULL,
	`message` text,
	`valid` integer DEFAULT 0 NOT NULL,
	`role` integer DEFAULT 0 NOT NULL,
	`disposable` integer DEFAULT 0 NOT NULL,
	`no_mail_domain` integer DEFAULT 0 NOT NULL,
	`unknown` integer DEFAULT 0 NOT NULL,
	`counted_of` integer,
	`validated_at` integer,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "validation_runs_status_check" CHECK("validation_runs"."status" in ('running','finished','dns_unavailable'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `validation_runs_batch_seq` ON `validation_runs` (`batch_id`,`seq`);--> statement-breakpoint
CREATE UNIQUE INDEX `validation_runs_one_running` ON `validation_runs` (`batch_id`) WHERE status = 'running';