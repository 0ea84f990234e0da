CREATE TABLE `retention_proposals` (
	`batch_id` text PRIMARY KEY NOT NULL,
	`proposed_at` integer NOT NULL,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
INSERT INTO `retention_proposals` (`batch_id`, `proposed_at`) SELECT substr(`key`, 20), CAST(`value` AS INTEGER) FROM `settings` WHERE `key` LIKE 'retention.proposed.%' AND substr(`key`, 20) IN (SELECT `id` FROM `batches`);--> statement-breakpoint
DELETE FROM `settings` WHERE `key` LIKE 'retention.proposed.%';
