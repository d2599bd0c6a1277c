ALTER TABLE `runs` ADD `changes_from` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `changes_to` integer;