CREATE TABLE `campaign_events` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`campaign_id` text NOT NULL,
	`at` integer NOT NULL,
	`actor` text NOT NULL,
	`kind` text NOT NULL,
	`detail` text,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE INDEX `campaign_events_campaign` ON `campaign_events` (`campaign_id`,`id`);--> statement-breakpoint
ALTER TABLE `campaigns` ADD `held_reason` text;--> statement-breakpoint
ALTER TABLE `campaigns` ADD `held_checks` text;