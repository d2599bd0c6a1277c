CREATE TABLE `one_time_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`expires_at` text NOT NULL,
	`used_at` text
);
--> statement-breakpoint
CREATE TABLE `sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`user` text NOT NULL,
	`role` text NOT NULL,
	`school_id` integer DEFAULT 0 NOT NULL,
	`csrf_token` text NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_expiry` ON `sessions` (`expires_at`);--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`delivery_id` text PRIMARY KEY NOT NULL,
	`record_id` integer NOT NULL,
	`run_id` integer,
	`received_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_one_active` ON `runs` (`record_id`) WHERE status IN ('queued', 'running', 'waiting') AND preview = 0 AND record_id IS NOT NULL;