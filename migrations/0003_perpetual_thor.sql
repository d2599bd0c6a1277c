DROP INDEX `cc_section`;--> statement-breakpoint
DROP INDEX `cc_scope`;--> statement-breakpoint
DROP INDEX `students_run`;