CREATE TABLE `attendance` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`mode` text NOT NULL,
	`student_number` integer,
	`schoolid` integer,
	`att_date` text,
	`attendance_codeid` integer,
	`att_code` text,
	`att_comment` text,
	`course_number` text,
	`section_number` text,
	`period` text,
	`last_run_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `attendance_key` ON `attendance` (`mode`,`student_number`,`schoolid`,`att_date`,`course_number`,`section_number`);--> statement-breakpoint
CREATE INDEX `attendance_scope` ON `attendance` (`schoolid`,`att_date`);--> statement-breakpoint
CREATE TABLE `attendance_codes` (
	`school_number` integer NOT NULL,
	`id` integer NOT NULL,
	`code` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`presence` text DEFAULT 'present' NOT NULL,
	PRIMARY KEY(`school_number`, `id`)
);
--> statement-breakpoint
CREATE UNIQUE INDEX `attendance_codes_code` ON `attendance_codes` (`school_number`,`code`);--> statement-breakpoint
CREATE TABLE `cc` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`student_number` integer,
	`schoolid` integer,
	`termid` integer,
	`course_number` text,
	`section_number` text,
	`dateenrolled` text,
	`dateleft` text,
	`expression` text,
	`section_id` integer NOT NULL,
	`dropped` integer DEFAULT 0 NOT NULL,
	`last_run_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `cc_key` ON `cc` (`student_number`,`schoolid`,`termid`,`course_number`,`section_number`);--> statement-breakpoint
CREATE INDEX `cc_section` ON `cc` (`section_id`);--> statement-breakpoint
CREATE INDEX `cc_scope` ON `cc` (`schoolid`,`termid`,`dropped`);--> statement-breakpoint
CREATE TABLE `managed_connections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`description` text DEFAULT '' NOT NULL,
	`host` text NOT NULL,
	`port` integer DEFAULT 22 NOT NULL,
	`auth_method` text NOT NULL,
	`username` text NOT NULL,
	`secret` text,
	`secret_key_id` text,
	`allow_download` integer DEFAULT true NOT NULL,
	`allow_upload` integer DEFAULT false NOT NULL,
	`allow_legacy_ciphers` integer DEFAULT false NOT NULL,
	`host_fingerprint` text,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `connections_name` ON `managed_connections` (`name`);--> statement-breakpoint
CREATE TABLE `courses` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`course_number` text,
	`course_name` text,
	`credit_hours` real,
	`credittype` text,
	`sched_department` text,
	`alt_course_number` text,
	`code` text,
	`last_run_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `courses_key` ON `courses` (`course_number`);--> statement-breakpoint
CREATE TABLE `days` (
	`school_number` integer NOT NULL,
	`abbreviation` text NOT NULL,
	`sort_order` integer NOT NULL,
	PRIMARY KEY(`school_number`, `abbreviation`)
);
--> statement-breakpoint
CREATE TABLE `extension_fields` (
	`extension_table` text NOT NULL,
	`name` text NOT NULL,
	`type` text NOT NULL,
	`max_length` integer,
	`description` text,
	PRIMARY KEY(`extension_table`, `name`)
);
--> statement-breakpoint
CREATE TABLE `extension_tables` (
	`name` text PRIMARY KEY NOT NULL,
	`base_table` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `extension_values` (
	`extension_table` text NOT NULL,
	`field` text NOT NULL,
	`record_id` integer NOT NULL,
	`value` text,
	PRIMARY KEY(`extension_table`, `field`, `record_id`)
);
--> statement-breakpoint
CREATE TABLE `periods` (
	`school_number` integer NOT NULL,
	`abbreviation` text NOT NULL,
	`sort_order` integer NOT NULL,
	PRIMARY KEY(`school_number`, `abbreviation`)
);
--> statement-breakpoint
CREATE TABLE `autocomm_records` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`school_id` integer NOT NULL,
	`name` text NOT NULL,
	`table_name` text NOT NULL,
	`attendance_mode` text,
	`hour` integer DEFAULT 0 NOT NULL,
	`minute` integer DEFAULT 0 NOT NULL,
	`days` text DEFAULT '' NOT NULL,
	`execution_off` integer DEFAULT false NOT NULL,
	`source` text DEFAULT 'local' NOT NULL,
	`connection_id` integer,
	`path` text NOT NULL,
	`field_delimiter` text DEFAULT 'tab' NOT NULL,
	`record_delimiter` text DEFAULT 'CRLF' NOT NULL,
	`charset` text DEFAULT 'windows-1252' NOT NULL,
	`sort_order` integer,
	`synchronize` integer DEFAULT false NOT NULL,
	`update_existing` integer DEFAULT false NOT NULL,
	`inactivate_exited` integer DEFAULT false NOT NULL,
	`expect_record_count` integer DEFAULT false NOT NULL,
	`email_to` text DEFAULT '' NOT NULL,
	`fields` text NOT NULL,
	`ignore_blank_cells` integer DEFAULT false NOT NULL,
	`removal_limit_percent` integer DEFAULT 10 NOT NULL,
	`min_file_age_seconds` integer,
	`created_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `records_school_name` ON `autocomm_records` (`school_id`,`name`);--> statement-breakpoint
CREATE TABLE `reenrollments` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`student_number` integer NOT NULL,
	`schoolid` integer NOT NULL,
	`grade_level` integer,
	`entrydate` text,
	`exitdate` text,
	`entrycode` text,
	`exitcode` text,
	`run_id` integer
);
--> statement-breakpoint
CREATE INDEX `reenrollments_student` ON `reenrollments` (`student_number`);--> statement-breakpoint
CREATE TABLE `run_changes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`table_name` text NOT NULL,
	`action` text NOT NULL,
	`key` text NOT NULL,
	`changes` text
);
--> statement-breakpoint
CREATE INDEX `run_changes_run` ON `run_changes` (`run_id`);--> statement-breakpoint
CREATE INDEX `run_changes_feed` ON `run_changes` (`id`);--> statement-breakpoint
CREATE TABLE `run_errors` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`line` integer NOT NULL,
	`field` text NOT NULL,
	`code` text NOT NULL,
	`message` text NOT NULL,
	`row` text
);
--> statement-breakpoint
CREATE INDEX `run_errors_run` ON `run_errors` (`run_id`,`line`);--> statement-breakpoint
CREATE TABLE `run_notes` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`run_id` integer NOT NULL,
	`code` text NOT NULL,
	`message` text NOT NULL,
	`line` integer
);
--> statement-breakpoint
CREATE INDEX `run_notes_run` ON `run_notes` (`run_id`);--> statement-breakpoint
CREATE TABLE `runs` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`record_id` integer,
	`school_id` integer NOT NULL,
	`table_name` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`slot_key` text,
	`options` text NOT NULL,
	`preview` integer DEFAULT false NOT NULL,
	`queued_at` text NOT NULL,
	`started_at` text,
	`ended_at` text,
	`lease_expires_at` text,
	`approves_run_id` integer,
	`file_name` text,
	`file_size` integer,
	`file_sha256` text,
	`held_path` text,
	`held_until` text,
	`today` text,
	`read` integer DEFAULT 0 NOT NULL,
	`inserted` integer DEFAULT 0 NOT NULL,
	`updated` integer DEFAULT 0 NOT NULL,
	`unchanged` integer DEFAULT 0 NOT NULL,
	`skipped` integer DEFAULT 0 NOT NULL,
	`rejected` integer DEFAULT 0 NOT NULL,
	`removed` integer DEFAULT 0 NOT NULL,
	`inactivated` integer DEFAULT 0 NOT NULL,
	`blank_lines` integer DEFAULT 0 NOT NULL,
	`short_rows` integer DEFAULT 0 NOT NULL,
	`message` text,
	`email_status` text,
	`email_error` text,
	`email_attempts` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `runs_slot` ON `runs` (`slot_key`);--> statement-breakpoint
CREATE INDEX `runs_record` ON `runs` (`record_id`,`id`);--> statement-breakpoint
CREATE INDEX `runs_status` ON `runs` (`status`);--> statement-breakpoint
CREATE TABLE `school_courses` (
	`schoolid` integer NOT NULL,
	`course_number` text NOT NULL,
	`offered` integer DEFAULT 1 NOT NULL,
	`last_run_id` integer,
	PRIMARY KEY(`schoolid`, `course_number`)
);
--> statement-breakpoint
CREATE TABLE `schools` (
	`school_number` integer PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`attendance_method` text DEFAULT 'daily' NOT NULL
);
--> statement-breakpoint
CREATE TABLE `section_meetings` (
	`section_id` integer NOT NULL,
	`period` text NOT NULL,
	`day` text NOT NULL,
	PRIMARY KEY(`section_id`, `period`, `day`)
);
--> statement-breakpoint
CREATE TABLE `sections` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`schoolid` integer,
	`termid` integer,
	`course_number` text,
	`section_number` text,
	`expression` text,
	`teacher_number` text,
	`room` text,
	`maxenrollment` integer,
	`grade_level` integer,
	`inactive` integer DEFAULT 0 NOT NULL,
	`last_run_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `sections_key` ON `sections` (`schoolid`,`termid`,`course_number`,`section_number`);--> statement-breakpoint
CREATE TABLE `students` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`student_number` integer,
	`schoolid` integer,
	`first_name` text,
	`middle_name` text,
	`last_name` text,
	`grade_level` integer,
	`dob` text,
	`gender` text,
	`entrydate` text,
	`exitdate` text,
	`entrycode` text,
	`exitcode` text,
	`enroll_status` integer,
	`home_room` text,
	`street` text,
	`city` text,
	`state` text,
	`zip` text,
	`mailing_street` text,
	`mailing_city` text,
	`mailing_state` text,
	`mailing_zip` text,
	`home_phone` text,
	`ethnicity` text,
	`state_studentnumber` text,
	`lunch_id` text,
	`network_id` text,
	`student_web_id` text,
	`track` text,
	`team` text,
	`graduation_year` integer,
	`district_entry_date` text,
	`school_entry_date` text,
	`mother` text,
	`mother_day_phone` text,
	`mother_email` text,
	`father` text,
	`father_day_phone` text,
	`father_email` text,
	`guardian` text,
	`guardian_phone` text,
	`guardian_email` text,
	`emerg_contact_1` text,
	`emerg_phone_1` text,
	`last_run_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `students_key` ON `students` (`student_number`);--> statement-breakpoint
CREATE INDEX `students_school` ON `students` (`schoolid`,`enroll_status`);--> statement-breakpoint
CREATE INDEX `students_run` ON `students` (`last_run_id`);--> statement-breakpoint
CREATE TABLE `teachers` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`teachernumber` text,
	`schoolid` integer,
	`homeschoolid` integer,
	`first_name` text,
	`middle_name` text,
	`last_name` text,
	`title` text,
	`email_addr` text,
	`home_phone` text,
	`status` integer,
	`staffstatus` integer,
	`loginid` text,
	`teacherloginid` text,
	`sif_stateprid` text,
	`sched_gender` text,
	`last_run_id` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `teachers_key` ON `teachers` (`teachernumber`,`schoolid`);--> statement-breakpoint
CREATE INDEX `teachers_school` ON `teachers` (`schoolid`,`status`);--> statement-breakpoint
CREATE TABLE `terms` (
	`school_number` integer NOT NULL,
	`term_id` integer NOT NULL,
	`abbreviation` text NOT NULL,
	`first_day` text NOT NULL,
	`last_day` text NOT NULL,
	PRIMARY KEY(`school_number`, `term_id`)
);
