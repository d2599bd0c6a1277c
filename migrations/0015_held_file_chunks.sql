CREATE TABLE `held_file_chunks` (
	`run_id` integer NOT NULL,
	`seq` integer NOT NULL,
	`bytes` blob NOT NULL,
	PRIMARY KEY(`run_id`, `seq`)
);
