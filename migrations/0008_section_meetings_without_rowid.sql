-- Custom SQL migration file, put your code below! --
-- Section meetings become a WITHOUT ROWID table: one B-tree ordered by the key instead of a
-- rowid table plus its primary-key index. Storing the 176,000 meetings of 40,000 sections
-- writes half the pages (bench/profile.ts). Drizzle's schema cannot say WITHOUT ROWID, so
-- src/db/schema/sis.ts carries a note and tests/db/migrate_test.ts checks the table.
CREATE TABLE `__new_section_meetings` (
	`section_id` integer NOT NULL,
	`period` text NOT NULL,
	`day` text NOT NULL,
	PRIMARY KEY(`section_id`, `period`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `__new_section_meetings` (`section_id`, `period`, `day`)
  SELECT `section_id`, `period`, `day` FROM `section_meetings`;
--> statement-breakpoint
DROP TABLE `section_meetings`;
--> statement-breakpoint
ALTER TABLE `__new_section_meetings` RENAME TO `section_meetings`;
