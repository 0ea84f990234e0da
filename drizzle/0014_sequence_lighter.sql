PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_sequence_people` (
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
	CONSTRAINT "sequence_people_stop_check" CHECK("__new_sequence_people"."stop_reason" IS NULL OR "__new_sequence_people"."stop_reason" in ('replied','bounced','complained','unsubscribed','left_audience','cancelled','stopped'))
);
--> statement-breakpoint
INSERT INTO `__new_sequence_people`("campaign_id", "contact_id", "step", "next_due_at", "stop_reason", "stopped_at", "last_send_id", "updated_at") SELECT "campaign_id", "contact_id", "step", "next_due_at", "stop_reason", "stopped_at", "last_send_id", "updated_at" FROM `sequence_people`;--> statement-breakpoint
DROP TABLE `sequence_people`;--> statement-breakpoint
ALTER TABLE `__new_sequence_people` RENAME TO `sequence_people`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `sequence_people_due` ON `sequence_people` (`campaign_id`,`next_due_at`) WHERE "sequence_people"."next_due_at" IS NOT NULL;--> statement-breakpoint
CREATE INDEX `sequence_people_contact` ON `sequence_people` (`contact_id`);--> statement-breakpoint
DROP INDEX `sends_step_variant`;--> statement-breakpoint
CREATE INDEX `sends_step_variant` ON `sends` (`campaign_id`,`step`,`variant`) WHERE "sends"."step" > 1 OR "sends"."variant" IS NOT NULL;