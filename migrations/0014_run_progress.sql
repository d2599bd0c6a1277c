ALTER TABLE `runs` ADD `stage` text;--> statement-breakpoint
ALTER TABLE `runs` ADD `rows_read` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `bytes_read` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `progress_at` text;