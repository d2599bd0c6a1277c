CREATE TABLE `user_schools` (
	`user` text PRIMARY KEY NOT NULL,
	`school_id` integer NOT NULL,
	`updated_at` text NOT NULL
);
