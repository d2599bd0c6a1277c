CREATE TABLE `webhook_signatures` (
	`signature` text PRIMARY KEY NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_signatures_expiry` ON `webhook_signatures` (`expires_at`);