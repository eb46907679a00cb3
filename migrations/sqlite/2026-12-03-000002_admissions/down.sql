-- The communications of applicants go; the table gets its NOT NULL family back.
DELETE FROM communications WHERE family_id IS NULL;
CREATE TABLE communications_prev (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    family_id TEXT NOT NULL REFERENCES families (id),
    student_id TEXT REFERENCES students (id),
    guardian_id TEXT REFERENCES guardians (id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    category TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    language TEXT,
    interpreter_used BOOLEAN NOT NULL DEFAULT FALSE,
    translated BOOLEAN NOT NULL DEFAULT FALSE,
    occurred_at TIMESTAMP NOT NULL,
    follow_up_due_at TIMESTAMP,
    follow_up_done_at TIMESTAMP,
    author TEXT NOT NULL,
    author_role TEXT NOT NULL,
    visibility TEXT NOT NULL,
    acknowledged_at TIMESTAMP,
    acknowledged_by TEXT,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
INSERT INTO communications_prev (id, school_id, family_id, student_id, guardian_id, channel, direction, category, subject, body, language, interpreter_used, translated, occurred_at, follow_up_due_at, follow_up_done_at, author, author_role, visibility, acknowledged_at, acknowledged_by, version, created_at, updated_at, archived_at)
    SELECT id, school_id, family_id, student_id, guardian_id, channel, direction, category, subject, body, language, interpreter_used, translated, occurred_at, follow_up_due_at, follow_up_done_at, author, author_role, visibility, acknowledged_at, acknowledged_by, version, created_at, updated_at, archived_at FROM communications;
DROP TABLE communications;
ALTER TABLE communications_prev RENAME TO communications;
-- Newest first, school-wide and per family, student, guardian and author.
CREATE INDEX communications_school_time ON communications (school_id, occurred_at, id);
CREATE INDEX communications_school_family_time ON communications (school_id, family_id, occurred_at, id);
CREATE INDEX communications_school_student_time ON communications (school_id, student_id, occurred_at, id);
CREATE INDEX communications_school_guardian_time ON communications (school_id, guardian_id, occurred_at, id);
CREATE INDEX communications_school_author_time ON communications (school_id, author, occurred_at, id);
-- Open follow-ups, newest first: the follow_up=due and follow_up=overdue queues read this small
-- index in list order and stop after a page, instead of sorting every open follow-up.
CREATE INDEX communications_school_open_follow_ups ON communications (school_id, occurred_at, id, follow_up_due_at)
    WHERE follow_up_due_at IS NOT NULL AND follow_up_done_at IS NULL AND archived_at IS NULL;
DROP TABLE applicant_moves;
DROP TABLE applicants;
DROP TABLE admission_stages;
