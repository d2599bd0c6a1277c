-- Custom SQL migration file, put your code below! ---- A run writes its change log inside its one transaction, so its entries are one
-- range of ids; it is kept on the run row and read by it (the run index goes next).
UPDATE `runs` SET
  `changes_from` = (SELECT min(c.`id`) FROM `run_changes` c WHERE c.`run_id` = `runs`.`id`),
  `changes_to` = (SELECT max(c.`id`) FROM `run_changes` c WHERE c.`run_id` = `runs`.`id`);
