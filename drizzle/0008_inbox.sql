CREATE TABLE `inbox_bounces` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`message_id` integer NOT NULL,
	`email` text,
	`status` text NOT NULL,
	`permanent` integer NOT NULL,
	`hard` integer NOT NULL,
	`reason` text NOT NULL,
	`send_id` integer,
	`at` integer NOT NULL,
	FOREIGN KEY (`message_id`) REFERENCES `inbox_messages`(`id`) ON UPDATE no action ON DELETE cascade,
	FOREIGN KEY (`send_id`) REFERENCES `sends`(`id`) ON UPDATE no action ON DELETE set null
);
--> statement-breakpoint
CREATE INDEX `inbox_bounces_message` ON `inbox_bounces` (`message_id`);--> statement-breakpoint
CREATE INDEX `inbox_bounces_email` ON `inbox_bounces` (`email`,`at`);--> statement-breakpoint
CREATE INDEX `inbox_bounces_send` ON `inbox_bounces` (`send_id`);--> statement-breakpoint
CREATE TABLE `inbox_messages` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mailbox` text NOT NULL,
	`uid_validity` text NOT NULL,
	`uid` integer NOT NULL,
	`kind` text NOT NULL,
	`from_address` text,
	`subject` text,
	`message_id` text,
	`received_at` integer NOT NULL,
	`send_id` integer,
	`campaign_id` text,
	`contact_id` integer,
	`snippet` text,
	`details` text,
	`unsubscribed` integer DEFAULT false NOT NULL,
	`notice_ref` text,
	`notified_at` integer,
	`processed_at` integer NOT NULL,
	FOREIGN KEY (`send_id`) REFERENCES `sends`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`campaign_id`) REFERENCES `campaigns`(`id`) ON UPDATE no action ON DELETE set null,
	FOREIGN KEY (`contact_id`) REFERENCES `contacts`(`id`) ON UPDATE no action ON DELETE set null,
	CONSTRAINT "inbox_messages_kind_check" CHECK("inbox_messages"."kind" in ('reply','bounce','complaint','auto_reply','delivery_report','unknown'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX `inbox_messages_uid` ON `inbox_messages` (`mailbox`,`uid_validity`,`uid`);--> statement-breakpoint
CREATE INDEX `inbox_messages_kind` ON `inbox_messages` (`kind`,`id`);--> statement-breakpoint
CREATE INDEX `inbox_messages_campaign` ON `inbox_messages` (`campaign_id`,`id`);--> statement-breakpoint
CREATE INDEX `inbox_messages_contact` ON `inbox_messages` (`contact_id`);--> statement-breakpoint
CREATE INDEX `inbox_messages_unnotified` ON `inbox_messages` (`kind`,`notified_at`);--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_suppressions` (
	`email_hash` blob PRIMARY KEY NOT NULL,
	`reason` text NOT NULL,
	`actor` text NOT NULL,
	`created_at` integer NOT NULL,
	CONSTRAINT "suppressions_reason_check" CHECK("__new_suppressions"."reason" in ('bounced','unsubscribed','deleted','manual','complained','soft_bounced'))
);
--> statement-breakpoint
INSERT INTO `__new_suppressions`("email_hash", "reason", "actor", "created_at") SELECT "email_hash", "reason", "actor", "created_at" FROM `suppressions`;--> statement-breakpoint
DROP TABLE `suppressions`;--> statement-breakpoint
ALTER TABLE `__new_suppressions` RENAME TO `suppressions`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
ALTER TABLE `contacts` ADD `interest` text;--> statement-breakpoint
ALTER TABLE `sends` ADD `replied_at` integer;--> statement-breakpoint
ALTER TABLE `sends` ADD `complained_at` integer;--> statement-breakpoint
ALTER TABLE `sends` ADD `soft_bounced_at` integer;