-- One family's communications (its list, and the communications of its timeline) are read from
-- this index alone. With the index of keys only, each row of a family's page was one more
-- lookup in the table, and a family's rows lie wherever they were logged among every other
-- family's: about 15 page reads from the OS for a family's 10 rows, when the readers' caches
-- cannot hold the school. An index that carries every column serves the page from one or two
-- adjacent leaf pages (SEARCH ... USING COVERING INDEX). It costs each write to a communication
-- a larger index entry and the table's size again on disk.
-- Every column of `communications` must be in it (the rowid is implicit): a column added later
-- and left out would quietly send each row back to the table (a test checks).
DROP INDEX communications_school_family_time;
CREATE INDEX communications_school_family_covering ON communications (school_id, family_id,
    occurred_at, id, student_id, guardian_id, applicant_id, channel, direction, category, subject,
    body, language, interpreter_used, translated, follow_up_due_at, follow_up_done_at, author,
    author_role, visibility, acknowledged_at, acknowledged_by, version, created_at, updated_at,
    archived_at);
