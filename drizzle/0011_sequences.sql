CREATE TABLE `sequence_people` (
	`campaign_id` text NOT NULL,
	`contact_id` integer NOT NULL,
	`step` integer NOT NULL,
	`next_due_at` integer,
	`stop_reason` text,
	`stopped_at` integer,
	`last_send_id` integer,
	`updated_at` integer NOT NULL,
	PRIMARY KEY(`campaign_id`, `contact_id`),
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`last_send_id`) REFERENCES `sends`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "sequence_people_stop_check" CHECK("sequence_people"."stop_reason" IS NULL OR "sequence_people"."stop_reason" in ('replied','bounced','complained','unsubscribed','left_audience','cancelled','stopped'))
);
--> statement-breakpoint
CREATE INDEX `sequence_people_due` ON `sequence_people` (`campaign_id`,`next_due_at`) WHERE "sequence_people"."next_due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `sequence_people_contact` ON `sequence_people` (`contact_id`);--> statement-breakpoint
CREATE INDEX `sequence_people_last_send` ON `sequence_people` (`last_send_id`);--> statement-breakpoint
DROP INDEX `sends_campaign_contact`;--> statement-breakpoint
ALTER TABLE `sends` ADD `step` integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE `sends` ADD `variant` integer;--> statement-breakpoint
CREATE UNIQUE INDEX `sends_campaign_contact_step` ON `sends` (`campaign_id`,`contact_id`,`step`);--> statement-breakpoint
CREATE INDEX `sends_step_variant` ON `sends` (`campaign_id`,`step`,`variant`,`status`) WHERE "sends"."step" > 1 OR "sends"."variant" IS NOT NULL;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `steps` text;