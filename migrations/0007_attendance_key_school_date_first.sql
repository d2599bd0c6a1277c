DROP INDEX `attendance_scope`;--> statement-breakpoint
DROP INDEX `attendance_key`;--> statement-breakpoint
CREATE UNIQUE INDEX `attendance_key` ON `attendance` (`schoolid`,`att_date`,`mode`,`student_number`,`course_number`,`section_number`);