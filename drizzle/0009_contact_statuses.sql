PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_contacts` (
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
	`validation` text,
	`validated_at` integer,
	`interest` text,
	FOREIGN KEY (`batch_id`) REFERENCES `batches`(`id`) ON UPDATE no action ON DELETE cascade,
	CONSTRAINT "contacts_status_check" CHECK("__new_contacts"."status" in ('active','inactive','replied','bounced','unsubscribed','complained'))
);
--> statement-breakpoint
INSERT INTO `__new_contacts`("id", "email", "email_hash", "name", "company", "position", "source", "status", "batch_id", "created_at", "updated_at", "validation", "validated_at", "interest") SELECT "id", "email", "email_hash", "name", "company", "position", "source", "status", "batch_id", "created_at", "updated_at", "validation", "validated_at", "interest" FROM `contacts`;--> statement-breakpoint
DROP TABLE `contacts`;--> statement-breakpoint
ALTER TABLE `__new_contacts` RENAME TO `contacts`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE UNIQUE INDEX `contacts_email` ON `contacts` (`email`);--> statement-breakpoint
CREATE INDEX `contacts_batch` ON `contacts` (`batch_id`,`id`);--> statement-breakpoint
CREATE INDEX `contacts_batch_status` ON `contacts` (`batch_id`,`status`,`id`);