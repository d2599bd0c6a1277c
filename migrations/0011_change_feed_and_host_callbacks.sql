CREATE TABLE `change_feed_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`removed_through` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE TABLE `host_callbacks` (
	`run_id` integer PRIMARY KEY NOT NULL,
	`status` text NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`first_attempt_at` text NOT NULL,
	`next_attempt_at` text,
	`last_error` text,
	`delivered_at` text
);
--> statement-breakpoint
CREATE INDEX `host_callbacks_due` ON `host_callbacks` (`status`,`next_attempt_at`);