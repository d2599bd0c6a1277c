ALTER TABLE `runs` ADD `changes_from` integer;--> statement-breakpoint
ALTER TABLE `runs` ADD `changes_to` integer;--> statement-breakpoint
UPDATE `runs` SET `changes_from` = (SELECT min(`id`) FROM `run_changes` c WHERE c.`run_id` = `runs`.`id`), `changes_to` = (SELECT max(`id`) FROM `run_changes` c WHERE c.`run_id` = `runs`.`id`);--> statement-breakpoint
DROP INDEX `run_changes_run`;
