-- The admissions pipeline: a school's ordered stages, the applicants moving through them, and
-- each applicant's moves (their history, with the time spent in each stage).
CREATE TABLE admission_stages (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    -- The stage's checklist items, a JSON array of {key, label, required}.
    checklist TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
-- A key names one live stage of a school (a deleted stage's key may be used again).
CREATE UNIQUE INDEX admission_stages_key ON admission_stages (school_id, key)
    WHERE archived_at IS NULL;
CREATE INDEX admission_stages_school_position ON admission_stages (school_id, position);

CREATE TABLE applicants (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    external_id TEXT,
    given_name TEXT NOT NULL,
    family_name TEXT NOT NULL,
    date_of_birth DATE,
    applying_for_grade TEXT,
    entry_term TEXT,
    guardian_name TEXT NOT NULL,
    guardian_email TEXT,
    guardian_phone TEXT,
    guardian_preferred_language TEXT,
    guardian_relationship TEXT,
    guardian_sms_opt_in BOOLEAN NOT NULL DEFAULT FALSE,
    source TEXT NOT NULL,
    stage TEXT NOT NULL,
    stage_entered_at TIMESTAMP NOT NULL,
    -- The keys of every stage the applicant ever entered, comma-separated: the funnel counts
    -- who reached a stage from this one column.
    reached TEXT NOT NULL,
    -- The stays that ended, `stage:seconds` comma-separated in the order they ended: the
    -- funnel's median time in stage reads them from here rather than joining every move.
    stays TEXT NOT NULL,
    assignee TEXT,
    -- Done checklist items, a JSON object {item key: {done_at, done_by}}.
    checklist TEXT NOT NULL,
    notes TEXT,
    family_id TEXT REFERENCES families (id),
    student_id TEXT REFERENCES students (id),
    guardian_id TEXT REFERENCES guardians (id),
    version BIGINT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    archived_at TIMESTAMP
);
CREATE INDEX applicants_school_id ON applicants (school_id, id);
CREATE INDEX applicants_school_stage ON applicants (school_id, stage, id);
CREATE INDEX applicants_school_created ON applicants (school_id, created_at);
CREATE INDEX applicants_school_updated ON applicants (school_id, updated_at);
CREATE UNIQUE INDEX applicants_external_id_key ON applicants (school_id, external_id)
    WHERE external_id IS NOT NULL AND archived_at IS NULL;
-- The funnel reads only this index (an index-only scan of the school's applicants, seeking to
-- `from`/`to`), never the wide rows: 100,000 applicants' rows cost several times as much.
CREATE INDEX applicants_funnel ON applicants
    (school_id, created_at, archived_at, entry_term, stage, source, reached, stays);

CREATE TABLE applicant_moves (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    applicant_id TEXT NOT NULL REFERENCES applicants (id),
    from_stage TEXT,
    to_stage TEXT NOT NULL,
    note TEXT,
    actor TEXT NOT NULL,
    actor_role TEXT NOT NULL,
    moved_at TIMESTAMP NOT NULL,
    -- When the applicant left `to_stage`, and the whole seconds spent in it (NULL while there).
    left_at TIMESTAMP,
    seconds BIGINT
);
CREATE INDEX applicant_moves_applicant ON applicant_moves (school_id, applicant_id, moved_at, id);
CREATE INDEX applicant_moves_stage_time ON applicant_moves (school_id, to_stage, seconds);

-- Before there is a family, the conversation is with an applicant's household: family_id
-- may be NULL and applicant_id names the applicant. SQLite cannot drop a NOT NULL, so the
-- table is rebuilt (nothing refers to it) with its indexes.
CREATE TABLE communications_next (
    id TEXT PRIMARY KEY NOT NULL,
    school_id TEXT NOT NULL,
    family_id TEXT REFERENCES families (id),
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
    archived_at TIMESTAMP,
    applicant_id TEXT REFERENCES applicants (id)
);
INSERT INTO communications_next (id, school_id, family_id, student_id, guardian_id, channel, direction, category, subject, body, language, interpreter_used, translated, occurred_at, follow_up_due_at, follow_up_done_at, author, author_role, visibility, acknowledged_at, acknowledged_by, version, created_at, updated_at, archived_at)
    SELECT id, school_id, family_id, student_id, guardian_id, channel, direction, category, subject, body, language, interpreter_used, translated, occurred_at, follow_up_due_at, follow_up_done_at, author, author_role, visibility, acknowledged_at, acknowledged_by, version, created_at, updated_at, archived_at FROM communications;
DROP TABLE communications;
ALTER TABLE communications_next RENAME TO communications;
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
-- Partial: most communications name no applicant, and each one written would otherwise add an
-- entry here for nothing.
CREATE INDEX communications_school_applicant_time ON communications (school_id, applicant_id, occurred_at, id)
    WHERE applicant_id IS NOT NULL;
