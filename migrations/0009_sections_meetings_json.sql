-- A section's meetings move from one row each in the section_meetings table into the section's
-- own row: sections.meetings, a JSON object of each period's days in the school's sort order
-- ({"1":["A","B"],"3":["C"]}), as the import writes them (src/pipeline/run.ts meetingsJson).
-- Storing the 176,000 meetings of 40,000 sections as rows cost an import more than the
-- sections themselves (bench/profile.ts). section_meetings becomes a view listing them as rows.
ALTER TABLE `sections` ADD `meetings` text;--> statement-breakpoint
-- (No ordered aggregates: sqld's SQL parser does not accept them; ordered subqueries instead.)
UPDATE `sections` SET `meetings` = (
  SELECT json_group_object(ps.period, json((
    SELECT json_group_array(x.day) FROM (
      SELECT m2.day AS day FROM `section_meetings` m2
      LEFT JOIN `days` d ON d.school_number = `sections`.schoolid AND d.abbreviation = m2.day
      WHERE m2.section_id = `sections`.id AND m2.period = ps.period
      ORDER BY d.sort_order, m2.day
    ) x
  )))
  FROM (
    SELECT DISTINCT m.period AS period, p.sort_order AS sort_order FROM `section_meetings` m
    LEFT JOIN `periods` p ON p.school_number = `sections`.schoolid AND p.abbreviation = m.period
    WHERE m.section_id = `sections`.id
    ORDER BY p.sort_order, m.period
  ) ps
) WHERE `id` IN (SELECT `section_id` FROM `section_meetings`);--> statement-breakpoint
DROP TABLE `section_meetings`;--> statement-breakpoint
CREATE VIEW `section_meetings` AS SELECT s.id AS section_id, p.key AS period, d.value AS day FROM sections s, json_each(s.meetings) p, json_each(p.value) d;
