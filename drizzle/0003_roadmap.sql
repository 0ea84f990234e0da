CREATE TABLE `scheduled_activations` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`batch_id` text NOT NULL,
	`at` integer NOT NULL,
	`state` text DEFAULT 'pending' NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer NOT NULL,
	`done_at` integer,
	`done_by` text,
	`note` text,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "scheduled_activations_state_check" CHECK("scheduled_activations"."state" in ('pending','applied','cancelled','failed'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `scheduled_activations_one_pending` ON `scheduled_activations` (`batch_id`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `scheduled_activations_due` ON `scheduled_activations` (`state`,`at`);--> statement-breakpoint
ALTER TABLE `batches` ADD `include_invalid_domains` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `contacts` ADD `validation` text;--> statement-breakpoint
ALTER TABLE `contacts` ADD `validated_at` integer;--> statement-breakpoint
CREATE INDEX `sends_contact` ON `sends` (`contact_id`);